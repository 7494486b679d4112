-- Enqueue n AC jobs of one grid into one command queue, atomically (spec §6.1 steps 3-5).
-- KEYS[1] = jobs:last   KEYS[2] = jobs:<gid>   KEYS[3] = queues:commands:queue:<gid>:<nid|role>
-- ARGV[1] = gid (hash field of jobs:last)   ARGV[2] = n
-- ARGV[3] = "guid1\nbody1\nguid2\nbody2..." where body is the job JSON after '{"id":<id>,'
--           (compact ASCII JSON holds no raw newline, so "\n" separates safely)
-- The id is spliced in as text: the JSON is never decoded here, so numbers stay byte-exact.
-- Returns the first allocated id; job i got first + i - 1.
local n = tonumber(ARGV[2])
local payload = ARGV[3]
local last = redis.call('HINCRBY', KEYS[1], ARGV[1], n)
local first = last - n + 1
local chunk = 500
local h, q = {}, {}
local pos = 1
for i = 1, n do
  local a = string.find(payload, '\n', pos, true)
  local b = string.find(payload, '\n', a + 1, true) or (#payload + 1)
  local job = '{"id":' .. string.format('%d', first + i - 1) .. ',' .. string.sub(payload, a + 1, b - 1)
  h[#h + 1] = string.sub(payload, pos, a - 1)
  h[#h + 1] = job
  q[#q + 1] = job
  pos = b + 1
  if #q == chunk or i == n then
    redis.call('HSET', KEYS[2], unpack(h))
    redis.call('RPUSH', KEYS[3], unpack(q))
    h, q = {}, {}
  end
end
return first
