--[[
  Changes an existing user's fields (never its username: that moves an index on another slot), on a condition, with
  its audit event (see put-client-2.lua for KEYS[2] in a Cluster). The session index fields ("s:<fid>") stay.

  KEYS[1]  user hash         user:{sub}
  KEYS[2]  audit stream      {rev}:audit

  ARGV[1]  condition: '*' (must exist) or the version (updated_at) the user must have
  ARGV[2]  the fields to set (JSON object)
  ARGV[3]  the optional fields to clear (JSON array)
  ARGV[4]  the audit event (JSON; '' = none)
  ARGV[5]  the audit event's time (ms)
  ARGV[6]  retention (ms) of the audit stream

  Output: 'ok', or why nothing was written: 'missing', 'stale'
]]
--- @include "append-audit"

local current = redis.call('HMGET', KEYS[1], 'sub', 'updated_at')
if not current[1] then return 'missing' end
if ARGV[1] ~= '*' and ARGV[1] ~= current[2] then return 'stale' end
local fields = cjson.decode(ARGV[2])
local flat = {}
for name, value in pairs(fields) do
  flat[#flat + 1] = name
  flat[#flat + 1] = value
end
redis.call('HSET', KEYS[1], unpack(flat))
local clear = cjson.decode(ARGV[3])
if #clear > 0 then redis.call('HDEL', KEYS[1], unpack(clear)) end
append_audit(KEYS[2], ARGV[4], ARGV[5], ARGV[6])
return 'ok'
