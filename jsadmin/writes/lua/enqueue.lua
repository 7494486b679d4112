-- Enqueue n AC jobs of one grid into one command queue (spec §6.1 steps 3-5), all or nothing.
-- (after the prelude: KEYS[1] = marker, ARGV[1] = marker TTL)
-- KEYS[2] = jobs:last   KEYS[3] = jobs:<gid>   KEYS[4] = queues:commands:queue:<gid>:<nid|role>
-- ARGV[2] = gid (hash field of jobs:last)   ARGV[3] = n
-- ARGV[4] = "guid1\nbody1\nguid2\nbody2..." where body is the job JSON after '{"id":<id>,'
--           (compact ASCII JSON holds no raw newline, so "\n" separates safely)
-- The id is spliced in as text: the JSON is never decoded here, so numbers stay byte-exact.
-- Every precondition is checked before the first write; HMSET/RPUSH go in chunks of 500
-- (HMSET: Redis 2.8 has no multi-field HSET). Returns {first = "<first id>", n = n}.
local function is_type(key, allowed)
  local t = redis.call('TYPE', key)['ok']
  return t == 'none' or t == allowed, t
end
local ok, t = is_type(KEYS[2], 'hash')
if not ok then return refuse(KEYS[2] .. ' holds a ' .. t .. ', not a hash') end
ok, t = is_type(KEYS[3], 'hash')
if not ok then return refuse(KEYS[3] .. ' holds a ' .. t .. ', not a hash') end
ok, t = is_type(KEYS[4], 'list')
if not ok then return refuse(KEYS[4] .. ' holds a ' .. t .. ', not a list') end
local cur = redis.call('HGET', KEYS[2], ARGV[2])
if cur and not string.match(cur, '^%-?%d+$') then
  return refuse(KEYS[2] .. ' field ' .. ARGV[2] .. ' is not an integer: ' .. string.sub(cur, 1, 40))
end
if cur and #cur > 15 then  -- Lua numbers are doubles: ids stay exact below 2^53
  return refuse(KEYS[2] .. ' field ' .. ARGV[2] .. ' is ' .. cur .. ', beyond the ids Lua can count exactly')
end
local n = tonumber(ARGV[3])
local payload = ARGV[4]
local guids, bodies, seen = {}, {}, {}
local pos = 1
for i = 1, n do
  local a = string.find(payload, '\n', pos, true)
  if not a then return refuse('payload holds fewer than ' .. n .. ' jobs') end
  local b = string.find(payload, '\n', a + 1, true) or (#payload + 1)
  local guid = string.sub(payload, pos, a - 1)
  if seen[guid] or redis.call('HEXISTS', KEYS[3], guid) == 1 then
    return refuse(KEYS[3] .. ' already holds job ' .. guid)
  end
  seen[guid] = true
  guids[i] = guid
  bodies[i] = string.sub(payload, a + 1, b - 1)
  pos = b + 1
end
local last = redis.call('HINCRBY', KEYS[2], ARGV[2], n)
local first = last - n + 1
local chunk = 500
local h, q = {}, {}
for i = 1, n do
  local job = '{"id":' .. string.format('%d', first + i - 1) .. ',' .. bodies[i]
  h[#h + 1] = guids[i]
  h[#h + 1] = job
  q[#q + 1] = job
  if #q == chunk or i == n then
    redis.call('HMSET', KEYS[3], unpack(h))
    redis.call('RPUSH', KEYS[4], unpack(q))
    h, q = {}, {}
  end
end
return finish({first = string.format('%d', first), n = n})
