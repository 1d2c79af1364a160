--[[
  Records the user's decision on a device authorization (RFC 8628 §3.3): only while it is pending and unexpired.

  KEYS[1]  authorization     device:{<hash of the device code>}

  ARGV[1]  now (ms)
  ARGV[2]  '1' approved, '0' denied
  ARGV[3]  the approving user's sub ('' when denied)
  ARGV[4]  auth_time (s; '' when denied)

  Output: 1 when recorded, 0 when it was not pending any more
]]
local f = redis.call('HMGET', KEYS[1], 's', 'e')
if f[1] ~= 'p' or tonumber(f[2]) <= tonumber(ARGV[1]) then return 0 end
if ARGV[2] == '1' then
  redis.call('HSET', KEYS[1], 's', 'a', 'u', ARGV[3], 't', ARGV[4])
else
  redis.call('HSET', KEYS[1], 's', 'd')
end
return 1
