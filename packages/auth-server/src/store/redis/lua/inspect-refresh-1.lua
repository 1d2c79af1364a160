--[[
  Read-only view of a refresh token for introspection: live only if it is the
  family's current token.

  KEYS[1]  family hash       rt:{sub}:<fid>

  ARGV[1]  token hash

  Output: {client_id, scope, audience, created_at, expires} or {} when not live
]]
local f = redis.call('HMGET', KEYS[1], 'h', 'c', 's', 'a', 'ca')
if not f[1] or f[1] ~= ARGV[1] then return {} end
return {f[2], f[3], f[4], f[5], tostring(redis.call('PEXPIRETIME', KEYS[1]))}
