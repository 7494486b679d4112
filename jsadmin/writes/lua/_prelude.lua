-- jsadmin write prelude (prepended to every script whose body calls finish()).
-- KEYS[1] = jsadmin:write:<write id> (the marker)   ARGV[1] = marker TTL in seconds
-- A write id that already ran (or was fenced) returns its stored JSON unchanged: a re-run
-- writes nothing. Bodies check every precondition first, returning refuse(...) before any
-- mutation, and end with `return finish(result)`, which stores the result in the marker.
local jsadmin_done = redis.call('GET', KEYS[1])
if jsadmin_done then return jsadmin_done end
local function finish(result)
  local text = cjson.encode(result)
  redis.call('SET', KEYS[1], text, 'EX', ARGV[1])
  return text
end
local function refuse(message)
  return redis.error_reply('JSADMIN ' .. message)
end
-- Key kinds before any mutation, for scripts whose ARGV holds, from ARGV[first], a count L,
-- L list pairs (key index, value), then hash entries of `stride` args led by a key index.
-- Returns a refusal when a key is of another type (or used as both), else nil.
local function check_kinds(first, stride)
  local want = {}
  local i = first + 1
  for _ = 1, tonumber(ARGV[first]) do
    want[tonumber(ARGV[i])] = 'list'
    i = i + 2
  end
  while i <= #ARGV do
    local k = tonumber(ARGV[i])
    if want[k] == 'list' then return refuse(KEYS[k] .. ' is used both as a list and as a hash') end
    want[k] = 'hash'
    i = i + stride
  end
  for k, kind in pairs(want) do
    local t = redis.call('TYPE', KEYS[k])['ok']
    if t ~= kind and t ~= 'none' then return refuse(KEYS[k] .. ' is a ' .. t .. ', not a ' .. kind) end
  end
  return nil
end
