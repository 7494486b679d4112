-- Register one jumpscript (spec §5.4, §6.8 execFunction id rules, §6.9), all or nothing.
-- (after the prelude: KEYS[1] = marker, ARGV[1] = marker TTL)
-- KEYS[2] = workers:jumpscripts:name  KEYS[3] = workers:jumpscripts:id
-- KEYS[4] = workers:jumpscriptlastid  KEYS[5] = workers:jumpscripthashes
-- KEYS[6..] = pairs (workers:worker:<q>:<wname>, workers:action:<q>:<wname>) found by SCAN
-- ARGV[2] = name field <org>__<name>  ARGV[3] = md5 hex of source  ARGV[4] = source
-- ARGV[5] = replace ('1'/'0')  ARGV[6] = id floor (1000000)
-- ARGV[7] = JSON before the id value  ARGV[8] = JSON after the id value
-- Every precondition is checked before the first write; single-field HSET only (Redis 2.8).
-- Returns [status, "<id>", reloaded]: status 'new' | 'same' | 'replaced'.
local function wrong_type(key, allowed)
  local t = redis.call('TYPE', key)['ok']
  if t ~= 'none' and t ~= allowed then
    return key .. ' holds a ' .. t .. ', not a ' .. allowed
  end
  return nil
end
local bad = wrong_type(KEYS[2], 'hash') or wrong_type(KEYS[3], 'hash')
  or wrong_type(KEYS[4], 'string') or wrong_type(KEYS[5], 'hash')
if bad then return refuse(bad) end
for i = 6, #KEYS, 2 do
  bad = wrong_type(KEYS[i + 1], 'list')
  if bad then return refuse(bad) end
end
local existing = redis.call('HGET', KEYS[2], ARGV[2])
local status = 'new'
if existing then
  local ok, old = pcall(cjson.decode, existing)
  if ok and type(old) == 'table' and old['source'] == ARGV[4] then
    status = 'same'
  elseif ARGV[5] == '1' then
    status = 'replaced'
  else
    return refuse('exists: a different source is already registered as ' .. ARGV[2] .. ' in ' .. KEYS[2])
  end
end
local id = redis.call('HGET', KEYS[5], ARGV[3])
if id and not string.match(id, '^%d+$') then
  return refuse(KEYS[5] .. ' field ' .. ARGV[3] .. ' holds ' .. string.sub(id, 1, 40) .. ', not an id')
end
local cur = redis.call('GET', KEYS[4])
if cur and not string.match(cur, '^%-?%d+$') then
  return refuse(KEYS[4] .. ' is not an integer: ' .. string.sub(cur, 1, 40))
end
if cur and #cur > 15 then  -- Lua numbers are doubles: ids stay exact below 2^53
  return refuse(KEYS[4] .. ' is ' .. cur .. ', beyond the ids Lua can count exactly')
end
if not id then
  if not cur or tonumber(cur) < tonumber(ARGV[6]) then
    redis.call('SET', KEYS[4], ARGV[6])
  end
  id = string.format('%d', redis.call('INCR', KEYS[4]))
  redis.call('HSET', KEYS[5], ARGV[3], id)
end
local value = ARGV[7] .. id .. ARGV[8]
redis.call('HSET', KEYS[3], id, value)
redis.call('HSET', KEYS[2], ARGV[2], value)
local reloaded = 0
if status == 'replaced' or (status == 'same' and existing ~= value) then
  for i = 6, #KEYS, 2 do
    if redis.call('EXISTS', KEYS[i]) == 1 then
      redis.call('LPUSH', KEYS[i + 1], 'RELOAD')
      reloaded = reloaded + 1
    end
  end
end
return finish({status, id, reloaded})
