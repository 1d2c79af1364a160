--[[
  Creates or replaces a client, on a condition, with its audit event. In a Cluster the audit stream lives on
  another slot: the caller then passes the client key again as KEYS[2] and no event, and appends the event next.

  KEYS[1]  client            client:<client_id>   (JSON)
  KEYS[2]  audit stream      {rev}:audit

  ARGV[1]  condition: '' (none), 'absent' (create only), '*' (update only) or the version (updated_at, else
           created_at) the client must have
  ARGV[2]  the client (JSON)
  ARGV[3]  the audit event (JSON; '' = none)
  ARGV[4]  the audit event's time (ms)
  ARGV[5]  retention (ms) of the audit stream

  Output: 'ok', or why nothing was written: 'exists', 'missing', 'stale'
]]
--- @include "append-audit"
--- @include "client-version"

local current = redis.call('GET', KEYS[1])
local conflict = client_conflict(current, ARGV[1])
if conflict then return conflict end
redis.call('SET', KEYS[1], ARGV[2])
append_audit(KEYS[2], ARGV[3], ARGV[4], ARGV[5])
return 'ok'
