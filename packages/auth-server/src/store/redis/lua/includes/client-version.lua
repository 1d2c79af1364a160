-- Included by the scripts that write a client on a condition.
--
-- client_conflict(current, condition): why a write must not apply to the stored client JSON `current` (false or
-- nil when absent) under `condition` ('' none, 'absent', '*', or a version: its updated_at, else created_at), or
-- false when it applies.
local function client_conflict(current, condition)
  if condition == '' then return false end
  if condition == 'absent' then
    if current then return 'exists' end
    return false
  end
  if not current then return 'missing' end
  if condition == '*' then return false end
  local record = cjson.decode(current)
  local version = record['updated_at']
  if type(version) ~= 'number' then version = record['created_at'] end
  if tonumber(condition) ~= version then return 'stale' end
  return false
end
