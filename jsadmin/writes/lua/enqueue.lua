-- Enqueue n AC jobs of one grid into one command queue, atomically (spec §6.1 steps 3-5).
-- KEYS[1] = jobs:last   KEYS[2] = jobs:<gid>   KEYS[3] = queues:commands:queue:<gid>:<nid|role>
-- ARGV[1] = gid (hash field of jobs:last)   ARGV[2] = n
-- ARGV[2i+1] = guid of job i   ARGV[2i+2] = job JSON after its leading '{"id":<id>,'
-- The id is spliced in as text: the JSON is never decoded here, so numbers stay byte-exact.
-- Returns the first allocated id; job i got first + i - 1.
local n = tonumber(ARGV[2])
local last = redis.call('HINCRBY', KEYS[1], ARGV[1], n)
local first = last - n + 1
local chunk = 500
local h, q = {}, {}
for i = 1, n do
  local job = '{"id":' .. string.format('%d', first + i - 1) .. ',' .. ARGV[2 * i + 2]
  h[#h + 1] = ARGV[2 * i + 1]
  h[#h + 1] = job
  q[#q + 1] = job
  if #q == chunk or i == n then
    redis.call('HSET', KEYS[2], unpack(h))
    redis.call('RPUSH', KEYS[3], unpack(q))
    h, q = {}, {}
  end
end
return first
