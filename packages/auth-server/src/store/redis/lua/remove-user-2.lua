--[[
  Deletes a user's record (with the session index it holds), on a condition, with its audit event (see
  put-client-2.lua for KEYS[2] in a Cluster). The caller then releases the username, which lives on another slot.

  KEYS[1]  user hash         user:{sub}
  KEYS[2]  audit stream      {rev}:audit

  ARGV[1]  condition: '*' (must exist) or the version (updated_at) the user must have
  ARGV[2]  the audit event (JSON; '' = none)
  ARGV[3]  the audit event's time (ms)
  ARGV[4]  retention (ms) of the audit stream

  Output: {'ok', username}, or {'missing'} / {'stale'} and nothing was deleted
]]
--- @include "append-audit"

local current = redis.call('HMGET', KEYS[1], 'sub', 'updated_at', 'username')
if not current[1] then return {'missing'} end
if ARGV[1] ~= '*' and ARGV[1] ~= current[2] then return {'stale'} end
redis.call('DEL', KEYS[1])
append_audit(KEYS[2], ARGV[2], ARGV[3], ARGV[4])
return {'ok', current[3]}
