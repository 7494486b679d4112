-- Put back values removed by cancel/purge/delete (undo), atomically.
-- ARGV[1] = number of list groups G; each group: key index, count c, then c pairs
-- (original position, value) sorted by position. Each value is re-inserted at its original
-- position (before the element now there), or appended when the list has become shorter:
-- an unchanged list gets back its exact original order.
-- Then hash restores: triples (key index, field, value), written with HSETNX (never overwrite).
-- Returns {values pushed, hash fields restored, hash fields skipped}.
local pushed, restored, skipped = 0, 0, 0
local g = tonumber(ARGV[1])
local i = 2
for _ = 1, g do
  local key = KEYS[tonumber(ARGV[i])]
  local c = tonumber(ARGV[i + 1])
  i = i + 2
  for _ = 1, c do
    local pos = tonumber(ARGV[i])
    local value = ARGV[i + 1]
    local pivot = false
    if pos < redis.call('LLEN', key) then pivot = redis.call('LINDEX', key, pos) end
    if pivot then
      redis.call('LINSERT', key, 'BEFORE', pivot, value)
    else
      redis.call('RPUSH', key, value)
    end
    pushed = pushed + 1
    i = i + 2
  end
end
while i <= #ARGV do
  local ok = redis.call('HSETNX', KEYS[tonumber(ARGV[i])], ARGV[i + 1], ARGV[i + 2])
  if ok == 1 then restored = restored + 1 else skipped = skipped + 1 end
  i = i + 3
end
return {pushed, restored, skipped}
