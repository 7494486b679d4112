-- One chunk of cancel_jobs / delete_jobs: remove exact values, each only if still present and
-- unchanged. KEYS[2..] holds every key once; ARGV refers to keys by their index in KEYS (>= 2).
-- ARGV[2] = number of list removals L, then L pairs (key index, value): LREM key 1 value.
-- Then hash removals until the end of ARGV: quadruples (key index, field, expected value, dep):
-- HDEL only if the field still holds the expected value and, when dep > 0, list removal
-- number dep really removed its value (a job picked up meanwhile keeps its jobs:<gid> entry).
-- Preconditions first: every list key is a list (or absent), every hash key a hash (or
-- absent); otherwise refuse before any mutation.
-- Returns finish({list flags..., hash flags...}): 1 removed, 0 left alone.
local l = tonumber(ARGV[2])
local refused = check_kinds(2, 4)
if refused then return refused end
local out = {}
local i = 3
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
return finish(out)
