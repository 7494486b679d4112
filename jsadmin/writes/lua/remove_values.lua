-- Remove exact values from lists and hashes, each only if still present and unchanged.
-- ARGV[1] = number of list removals L, then L pairs (key index, value).
-- Then hash removals: pairs (key index, field, expected value) until the end of ARGV.
-- KEYS holds every key once; ARGV refers to it by 1-based index.
-- Returns {list flags..., hash flags...}: 1 removed, 0 no longer there (left alone).
local out = {}
local l = tonumber(ARGV[1])
local i = 2
for _ = 1, l do
  out[#out + 1] = redis.call('LREM', KEYS[tonumber(ARGV[i])], 1, ARGV[i + 1])
  i = i + 2
end
while i <= #ARGV do
  local key = KEYS[tonumber(ARGV[i])]
  if redis.call('HGET', key, ARGV[i + 1]) == ARGV[i + 2] then
    out[#out + 1] = redis.call('HDEL', key, ARGV[i + 1])
  else
    out[#out + 1] = 0
  end
  i = i + 3
end
return out
