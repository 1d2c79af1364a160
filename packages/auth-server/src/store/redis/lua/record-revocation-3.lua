--[[
  Records that something ended: its denial, its entry in the revocation log that every verifier follows, and its
  audit event, in one step. The revocation log keeps entries for the retention and no longer (exact MINID trimming
  on every append). The audit stream shares the {rev} hash tag, so this holds in a Cluster too.

  KEYS[1]  log stream        {rev}:log
  KEYS[2]  denial            {rev}:<sid|sub|jti|client>:<id>   (value: when, ms)
  KEYS[3]  audit stream      {rev}:audit

  ARGV[1]  at (ms): when it ended
  ARGV[2]  until (ms): no token it covers is valid after this
  ARGV[3]  retention (ms) of the log
  ARGV[4]  the entry (JSON: kind, identifiers, at, until)
  ARGV[5]  the audit event (JSON; '' = none)
  ARGV[6]  the audit event's time (ms)
  ARGV[7]  retention (ms) of the audit stream

  Output: the entry's id in the log ("<ms>-<seq>")
]]
--- @include "append-audit"

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
append_audit(KEYS[3], ARGV[5], ARGV[6], ARGV[7])
return id
