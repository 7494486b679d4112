-- Register one jumpscript atomically (spec §5.4, §6.8 execFunction id rules, §6.9).
-- KEYS[1] = workers:jumpscripts:name  KEYS[2] = workers:jumpscripts:id
-- KEYS[3] = workers:jumpscriptlastid  KEYS[4] = workers:jumpscripthashes
-- KEYS[5..] = pairs (workers:worker:<q>:<wname>, workers:action:<q>:<wname>) found by SCAN
-- ARGV[1] = name field <org>__<name>  ARGV[2] = md5 hex of source  ARGV[3] = source
-- ARGV[4] = replace ('1'/'0')  ARGV[5] = id floor (1000000)
-- ARGV[6] = JSON before the id value  ARGV[7] = JSON after the id value
-- Returns {status, id, reloaded}: status 'new' | 'same' | 'replaced' | 'refused'.
local existing = redis.call('HGET', KEYS[1], ARGV[1])
local status = 'new'
if existing then
  local ok, old = pcall(cjson.decode, existing)
  if ok and type(old) == 'table' and old['source'] == ARGV[3] then
    status = 'same'
  elseif ARGV[4] == '1' then
    status = 'replaced'
  else
    return {'refused', '', 0}
  end
end
local id = redis.call('HGET', KEYS[4], ARGV[2])
if not id then
  local cur = tonumber(redis.call('GET', KEYS[3]) or '')
  if cur == nil or cur < tonumber(ARGV[5]) then
    redis.call('SET', KEYS[3], ARGV[5])
  end
  id = tostring(redis.call('INCR', KEYS[3]))
  redis.call('HSET', KEYS[4], ARGV[2], id)
end
local value = ARGV[6] .. id .. ARGV[7]
redis.call('HSET', KEYS[2], id, value)
redis.call('HSET', KEYS[1], ARGV[1], value)
local reloaded = 0
if status == 'replaced' or (status == 'same' and existing ~= value) then
  for i = 5, #KEYS, 2 do
    if redis.call('EXISTS', KEYS[i]) == 1 then
      redis.call('LPUSH', KEYS[i + 1], 'RELOAD')
      reloaded = reloaded + 1
    end
  end
end
return {status, id, reloaded}
