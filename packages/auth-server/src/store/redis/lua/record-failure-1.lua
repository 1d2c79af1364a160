--[[
  Counts one failed authentication against a subject (a username, an IP) and
  locks it when the count reaches the maximum within the window.

  KEYS[1]  counter hash      bf:<kind>:<id>

  ARGV[1]  now (ms)
  ARGV[2]  window (ms): failures older than this are forgotten
  ARGV[3]  failures that trigger a lockout (0 = never lock)
  ARGV[4]  lockout (ms)

  Output: {count, last failure (ms), locked until (ms, 0 = not locked)}
]]
local f = redis.call('HMGET', KEYS[1], 'n', 'f', 'u')
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local max = tonumber(ARGV[3])
local count = tonumber(f[1]) or 0
local first = tonumber(f[2]) or now
local locked = tonumber(f[3]) or 0
if now - first > window and locked <= now then
  count = 0
  first = now
end
count = count + 1
if max > 0 and count >= max and locked <= now then locked = now + tonumber(ARGV[4]) end
redis.call('HSET', KEYS[1], 'n', count, 'f', first, 'l', now, 'u', locked)
redis.call('PEXPIRE', KEYS[1], math.max(window, locked - now) + 60000)
return {count, now, locked}
