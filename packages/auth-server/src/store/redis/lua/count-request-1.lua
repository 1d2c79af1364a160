--[[
  Counts one request in a fixed window (the token endpoint's per-IP rate limit).

  KEYS[1]  counter           ratelimit:<key>

  ARGV[1]  window (ms)

  Output: {count in this window, ms until the window resets}
]]
local count = redis.call('INCR', KEYS[1])
if count == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  return {count, tonumber(ARGV[1])}
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  -- A counter without a TTL (written by something else) would never reset.
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
