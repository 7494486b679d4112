-- keyinfo: a READ. For each key of KEYS (at most ~200 per call): its type, its PTTL, and its
-- value (a string) or its length and, when short enough, its wanted entries (a list).
-- Only TYPE, PTTL, GET, LLEN, LRANGE, HLEN, SCARD, ZCARD: nothing here writes.
-- Bounded: every LRANGE reads at most ARGV[5] entries; lists are read here only while the entries
-- read so far stay under ARGV[6] and their bytes under ARGV[8] (the others: length only).
--
-- ARGV: [1] "1": PTTL of each key    [2] "1": GET of each string key
--       [3] entries wanted per list (-1: all)    [4] "tail"/"head": which end they are kept at
--       [5] longest list read here (window)      [6] entries read here in all (budget)
--       [7] "1": HLEN/SCARD/ZCARD of the other types  [8] bytes of list entries read here in all
-- Reply, one item per key: {type, pttl|nil, length|nil, first position|nil, value|entries|nil}
local want_ttl = ARGV[1] == "1"
local want_values = ARGV[2] == "1"
local limit = tonumber(ARGV[3])
local from_tail = ARGV[4] == "tail"
local window = tonumber(ARGV[5])
local budget = tonumber(ARGV[6])
local want_sizes = ARGV[7] == "1"
local bytes = tonumber(ARGV[8])
local SIZE = {hash = "HLEN", set = "SCARD", zset = "ZCARD"}
local out = {}
for i, key in ipairs(KEYS) do
  local t = redis.call("TYPE", key)
  if type(t) == "table" then t = t.ok end  -- a status reply is a table {ok = "string"}
  local ttl, n, first, value = false, false, false, false
  if want_ttl and t ~= "none" then ttl = redis.call("PTTL", key) end
  if t == "string" then
    if want_values then value = redis.call("GET", key) end
  elseif t == "list" then
    n = redis.call("LLEN", key)
    local want = n
    if limit >= 0 and limit < n then want = limit end
    if want > 0 and want <= window and want <= budget and bytes > 0 then
      first = 0
      if from_tail then first = n - want end
      value = redis.call("LRANGE", key, first, first + want - 1)
      budget = budget - want
      for _, entry in ipairs(value) do bytes = bytes - #entry end
    end
  elseif want_sizes and SIZE[t] then
    n = redis.call(SIZE[t], key)
  end
  out[i] = {t, ttl, n, first, value}
end
return out
