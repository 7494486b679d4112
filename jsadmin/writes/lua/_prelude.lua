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
