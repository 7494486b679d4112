-- One chunk of purge_queue: trim the head of a list only where it still holds exactly the
-- values the client read and journalled.
-- KEYS[2] = the list   ARGV[2] = n   ARGV[3 .. n+2] = the first n values, as read.
-- If a consumer popped the first k of them meanwhile, the head now holds values k+1..n of
-- the window: those n-k are trimmed and k is returned as the offset (undo restores only what
-- this chunk removed). If the head matches no suffix of the window (everything read was
-- consumed, or something was pushed at the head), nothing is written.
-- Cost: one LRANGE of n + a compare of n values + LTRIM, n <= 1000, whatever the list length.
-- Returns finish({removed, offset}): {n - k, k} when trimmed, {0, -1} when nothing matched.
local key = KEYS[2]
local n = tonumber(ARGV[2])
local t = redis.call('TYPE', key)['ok']
if t ~= 'list' and t ~= 'none' then return refuse(key .. ' is a ' .. t .. ', not a list') end
local head = redis.call('LRANGE', key, 0, n - 1)
if #head == 0 then return finish({0, -1}) end
local tries = 0
for k = 0, n - 1 do
  if ARGV[k + 3] == head[1] then
    local m = n - k
    local same = #head >= m
    if same then
      for i = 2, m do
        if head[i] ~= ARGV[k + i + 2] then same = false break end
      end
    end
    if same then
      redis.call('LTRIM', key, m, -1)
      return finish({m, k})
    end
    tries = tries + 1
    if tries == 3 then break end
  end
end
return finish({0, -1})
