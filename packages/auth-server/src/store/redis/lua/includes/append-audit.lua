-- Included by the scripts that write an audit event with their change.
--
-- append_audit(key, entry, at, retention): appends `entry` (JSON; nothing when '') to the audit stream `key` with an
-- id from `at`, the event's time in ms (never before the newest entry, so the log stays in order whichever
-- instance's clock wrote it), and drops entries older than `retention` ms before `at`. The stream expires a day
-- after its last append outlives the retention. Returns the new id, or false.
local function append_audit(key, entry, at, retention)
  if entry == '' then return false end
  at = tonumber(at)
  retention = tonumber(retention)
  local ms = at
  local newest = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)[1]
  if newest then
    local newest_ms = tonumber(string.match(newest[1], '^(%d+)'))
    if newest_ms > ms then ms = newest_ms end
  end
  local id = redis.call('XADD', key, 'MINID', '=', string.format('%.0f', at - retention),
    string.format('%.0f-*', ms), 'e', entry)
  redis.call('PEXPIRE', key, retention + 86400000)
  return id
end
