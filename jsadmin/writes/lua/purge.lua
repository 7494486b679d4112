-- Empty a list atomically and return every value it held (for the journal and undo).
-- KEYS[1] = the list. Refuses a key of another type.
local t = redis.call('TYPE', KEYS[1])['ok']
if t == 'none' then return {} end
if t ~= 'list' then return redis.error_reply('WRONGTYPE ' .. KEYS[1] .. ' is a ' .. t .. ', not a list') end
local values = redis.call('LRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
return values
