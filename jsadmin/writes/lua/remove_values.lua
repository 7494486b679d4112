-- Remove exact values from lists and hashes, each only if still present and unchanged.
-- KEYS holds every key once; ARGV refers to keys by 1-based index.
-- ARGV[1] = number of list removals L, then L pairs (key index, value): LREM key 1 value.
-- Then hash removals until the end of ARGV: quadruples (key index, field, expected value, dep):
-- HDEL only if the field still holds the expected value and, when dep > 0, list removal
-- number dep really removed its value (a job picked up meanwhile keeps its jobs:<gid> entry).
-- Returns {list flags..., hash flags...}: 1 removed, 0 left alone.
local out = {}
local l = tonumber(ARGV[1])
local i = 2
for _ = 1, l do
  out[#out + 1] = redis.call('LREM', KEYS[tonumber(ARGV[i])], 1, ARGV[i + 1])
  i = i + 2
end
while i <= #ARGV do
  local key = KEYS[tonumber(ARGV[i])]
  local dep = tonumber(ARGV[i + 3])
  if (dep == 0 or out[dep] == 1) and redis.call('HGET', key, ARGV[i + 1]) == ARGV[i + 2] then
    out[#out + 1] = redis.call('HDEL', key, ARGV[i + 1])
  else
    out[#out + 1] = 0
  end
  i = i + 4
end
return out
