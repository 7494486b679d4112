-- Resolve a write whose reply was lost: KEYS[1] = its marker, ARGV[1] = marker TTL (s).
-- If the marker exists, the write ran: return its stored JSON. Otherwise store the JSON
-- string "fenced" so a delayed copy of the write finds the marker and does nothing.
local done = redis.call('GET', KEYS[1])
if done then return done end
redis.call('SET', KEYS[1], '"fenced"', 'EX', ARGV[1])
return '"fenced"'
