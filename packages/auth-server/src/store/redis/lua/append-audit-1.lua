--[[
  Appends one audit event by itself (a security event with no state change of its own, or the second step of a
  change whose keys live on another Cluster slot).

  KEYS[1]  audit stream      {rev}:audit

  ARGV[1]  the entry (JSON)
  ARGV[2]  the event's time (ms)
  ARGV[3]  retention (ms)

  Output: the entry's id ("<ms>-<seq>")
]]
--- @include "append-audit"

return append_audit(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
