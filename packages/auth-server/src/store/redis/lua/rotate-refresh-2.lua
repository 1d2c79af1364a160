--[[
  One refresh: check the presented token, spend it, install its successor, detect
  reuse and revoke the family — atomically, in one round trip.

  KEYS[1]  family hash       rt:{sub}:<fid>
  KEYS[2]  user hash         user:{sub}   (also holds the session index, "s:<fid>")

  ARGV[1]  fid
  ARGV[2]  hash of the presented token
  ARGV[3]  hash of the successor token
  ARGV[4]  successor sealed under a key derived from the presented token
  ARGV[5]  client_id of the authenticated client
  ARGV[6]  now (ms)
  ARGV[7]  idle ttl (ms)
  ARGV[8]  reuse grace (ms)
  ARGV[9]  requested scope ('' = the session's), must be a subset
  ARGV[10] requested audience ('' = the session's), must be a subset
  ARGV[11] deadline (ms, Redis clock): past it, nothing is written
  ARGV[12] thumbprint of the request's DPoP key ('' = no proof)

  Output: { outcome, ... }
    {'rotated', scope, audience, auth_time, expires, roles, username, name, email, email_verified, picture}
    {'replay', sealed, current_hash, scope, audience, auth_time, expires, roles, username, name, email, email_verified, picture}
    {'reuse', client_id}          the family was revoked (theft)
    {'invalid'}                   no such live family
    {'wrong_client'}              the token belongs to another client; nothing changed
    {'disabled'}                  the user is disabled or gone; the family was revoked
    {'invalid_scope'} / {'invalid_target'}   nothing changed
    {'wrong_key'}                 the session is DPoP-bound to another key; nothing changed
    {'late'}                      the deadline had passed; nothing changed
]]
-- A caller that timed out has answered 503: applying the write now would change what it was told failed.
local clock = redis.call('TIME')
if tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000) > tonumber(ARGV[11]) then
  return {'late'}
end

local f = redis.call('HMGET', KEYS[1], 'h', 'c', 's', 'a', 't', 'ab', 'p', 'r', 'e', 'k')
local current, client, scope, audience, auth_time, absolute, previous, rotated, sealed, jkt =
  f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10]
if not current then return {'invalid'} end

local now = tonumber(ARGV[6])
local function revoke()
  redis.call('DEL', KEYS[1])
  redis.call('HDEL', KEYS[2], 's:' .. ARGV[1])
end

if now >= tonumber(absolute) then
  revoke()
  return {'invalid'}
end

-- A bound session answers only proofs by its key — before reuse detection, so someone holding an old token but not
-- the key can neither refresh nor end the session.
if jkt and jkt ~= ARGV[12] then return {'wrong_key'} end

local presented = ARGV[2]
local is_current = presented == current
local is_parent = previous and presented == previous and now - tonumber(rotated) <= tonumber(ARGV[8])
if not is_current and not is_parent then
  -- A spent token after its grace, an older ancestor, or a forgery by someone who knows the family: theft.
  revoke()
  return {'reuse', client}
end
if client ~= ARGV[5] then return {'wrong_client'} end

-- Profile fields only when an ID token will be issued (openid in the effective scope).
local effective = ARGV[9] ~= '' and ARGV[9] or scope
local u
if string.find(' ' .. effective .. ' ', ' openid ', 1, true) then
  u = redis.call('HMGET', KEYS[2], 'disabled', 'roles', 'username', 'name', 'email', 'email_verified', 'picture')
else
  u = redis.call('HMGET', KEYS[2], 'disabled', 'roles', 'username')
end
if not u[3] or u[1] == '1' then
  revoke()
  return {'disabled'}
end

local function subset(requested, granted)
  if requested == '' then return true end
  local allowed = {}
  for item in string.gmatch(granted, '%S+') do allowed[item] = true end
  for item in string.gmatch(requested, '%S+') do
    if not allowed[item] then return false end
  end
  return true
end
if not subset(ARGV[9], scope) then return {'invalid_scope'} end
if not subset(ARGV[10], audience) then return {'invalid_target'} end

local expires = math.min(now + tonumber(ARGV[7]), tonumber(absolute))
local user = {u[2] or '[]', u[3] or '', u[4] or '', u[5] or '', u[6] or '', u[7] or ''}

if is_parent and not is_current then
  -- A retry or a second tab within the grace window: hand back the same successor, never fork.
  return {'replay', sealed, current, scope, audience, auth_time, tostring(expires), unpack(user)}
end

redis.call('HSET', KEYS[1], 'h', ARGV[3], 'p', presented, 'r', now, 'e', ARGV[4], 'lu', now)
redis.call('PEXPIREAT', KEYS[1], expires)
redis.call('HSET', KEYS[2], 's:' .. ARGV[1], expires)
return {'rotated', scope, audience, auth_time, tostring(expires), unpack(user)}
