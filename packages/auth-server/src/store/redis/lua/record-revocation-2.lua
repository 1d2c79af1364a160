--[[
  Records that something ended: its denial, and its entry in the revocation
  log that every verifier follows, in one step. The log keeps entries for the
  retention and no longer (exact MINID trimming on every append).

  KEYS[1]  log stream        {rev}:log
  KEYS[2]  denial            {rev}:<sid|sub|jti|client>:<id>   (value: when, ms)

  ARGV[1]  at (ms): when it ended
  ARGV[2]  until (ms): no token it covers is valid after this
  ARGV[3]  retention (ms) of the log
  ARGV[4]  the entry (JSON: kind, identifiers, at, until)

  Output: the entry's id in the log ("<ms>-<seq>")
]]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)

-- A later revocation of the same user or client moves its time forward; a denial never shrinks.
local at = tonumber(ARGV[1])
local previous = tonumber(redis.call('GET', KEYS[2]))
if previous and previous > at then at = previous end
local expires = tonumber(ARGV[2])
local current = redis.call('PEXPIRETIME', KEYS[2])
if current > expires then expires = current end
redis.call('SET', KEYS[2], at, 'PXAT', expires)

local retention = tonumber(ARGV[3])
local id = redis.call('XADD', KEYS[1], 'MINID', '=', now - retention, '*', 'r', ARGV[4])
redis.call('PEXPIRE', KEYS[1], retention * 2)
return id
