-- Put back values removed by cancel/purge/delete (undo), atomically.
-- ARGV[1] = number of list groups G; each group: key index, count c, then c values in original order
-- (pushed back at the head, so they keep their order before anything queued since).
-- Then hash restores: triples (key index, field, value), written with HSETNX (never overwrite).
-- Returns {values pushed, hash fields restored, hash fields skipped}.
local pushed, restored, skipped = 0, 0, 0
local g = tonumber(ARGV[1])
local i = 2
for _ = 1, g do
  local key = KEYS[tonumber(ARGV[i])]
  local c = tonumber(ARGV[i + 1])
  for j = c, 1, -1 do
    redis.call('LPUSH', key, ARGV[i + 1 + j])
  end
  pushed = pushed + c
  i = i + 2 + c
end
while i <= #ARGV do
  local ok = redis.call('HSETNX', KEYS[tonumber(ARGV[i])], ARGV[i + 1], ARGV[i + 2])
  if ok == 1 then restored = restored + 1 else skipped = skipped + 1 end
  i = i + 3
end
return {pushed, restored, skipped}
