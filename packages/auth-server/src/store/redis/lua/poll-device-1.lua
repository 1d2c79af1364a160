--[[
  One poll of the token endpoint by a device (RFC 8628 §3.5). Faster than its interval: slow_down, and the interval
  grows by 5 s for good. Otherwise the authorization's state; an approved one is handed out once and then spent.

  KEYS[1]  authorization     device:{<hash of the device code>}

  ARGV[1]  client_id polling
  ARGV[2]  now (ms)
  ARGV[3]  deadline (ms, Redis clock): past it, nothing is written

  Output: {'pending'} | {'slow_down', interval} | {'expired'} | {'denied'} | {'approved', data, sub, auth_time}
          | {'invalid'} | {'late'}
]]
local clock = redis.call('TIME')
if tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000) > tonumber(ARGV[3]) then
  return {'late'}
end
local f = redis.call('HMGET', KEYS[1], 'c', 's', 'e', 'l', 'i', 'd', 'u', 't')
if not f[1] or f[1] ~= ARGV[1] or f[2] == 'x' then return {'invalid'} end
local now = tonumber(ARGV[2])
if tonumber(f[3]) <= now then return {'expired'} end
local interval = tonumber(f[5])
if now - tonumber(f[4]) < interval * 1000 then
  interval = interval + 5
  redis.call('HSET', KEYS[1], 'l', ARGV[2], 'i', interval)
  return {'slow_down', interval}
end
redis.call('HSET', KEYS[1], 'l', ARGV[2])
if f[2] == 'p' then return {'pending'} end
if f[2] == 'd' then return {'denied'} end
redis.call('HSET', KEYS[1], 's', 'x')
return {'approved', f[6], f[7], f[8]}
