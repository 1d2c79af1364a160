--[[
  Spends one use of an initial access token (RFC 7591), atomically: however many registrations race with it, it
  makes at most its number of uses. A used-up token is deleted.

  KEYS[1]  token hash        iat:<id>   (fields: h hash, n uses left, x expires ms, …)

  ARGV[1]  now (ms)

  Output: the uses left after this one, or -1 when the token was gone, expired or used up
]]
local fields = redis.call('HMGET', KEYS[1], 'n', 'x')
if not fields[1] then return -1 end
if tonumber(fields[2]) <= tonumber(ARGV[1]) or tonumber(fields[1]) <= 0 then
  redis.call('DEL', KEYS[1])
  return -1
end
local left = redis.call('HINCRBY', KEYS[1], 'n', -1)
if left <= 0 then redis.call('DEL', KEYS[1]) end
return left
