--[[
  Deletes a client, on a condition, with its audit event (see put-client-2.lua for KEYS[2] in a Cluster).

  KEYS[1]  client            client:<client_id>   (JSON)
  KEYS[2]  audit stream      {rev}:audit

  ARGV[1]  condition: '' (none), '*' (must exist) or the version the client must have
  ARGV[2]  the audit event (JSON; '' = none)
  ARGV[3]  the audit event's time (ms)
  ARGV[4]  retention (ms) of the audit stream

  Output: 'ok', 'gone' (there was nothing to delete, no condition), or 'missing', 'stale'
]]
--- @include "append-audit"
--- @include "client-version"

local current = redis.call('GET', KEYS[1])
local conflict = client_conflict(current, ARGV[1])
if conflict then return conflict end
if not current then return 'gone' end
redis.call('DEL', KEYS[1])
append_audit(KEYS[2], ARGV[2], ARGV[3], ARGV[4])
return 'ok'
