--[[
  Starts a session: a refresh-token family, indexed in its user's hash.

  The index lives in the user hash as fields "s:<fid>" -> expiry (ms): one key
  fewer per session, and the same Cluster slot as the families ({sub} tag).
  Expired index entries are pruned here and when sessions are listed.

  KEYS[1]  family hash       rt:{sub}:<fid>
  KEYS[2]  user hash         user:{sub}

  ARGV[1]  fid
  ARGV[2]  token hash        (only hashes are ever stored)
  ARGV[3]  client_id
  ARGV[4]  scope             (space-separated)
  ARGV[5]  audience          (space-separated)
  ARGV[6]  auth_time         (seconds)
  ARGV[7]  user agent        ('' when unknown)
  ARGV[8]  now               (ms)
  ARGV[9]  idle ttl          (ms)
  ARGV[10] absolute ttl      (ms)
  ARGV[11] deadline          (ms, Redis clock): past it, nothing is written
  ARGV[12] DPoP thumbprint   the session is bound to ('' = not bound)

  Output: the session's expiry (ms), or 'late' when the deadline had passed
]]
-- A caller that timed out has answered 503: applying the write now would change what it was told failed.
local clock = redis.call('TIME')
if tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000) > tonumber(ARGV[11]) then
  return 'late'
end

local now = tonumber(ARGV[8])
local absolute = now + tonumber(ARGV[10])
local expires = math.min(now + tonumber(ARGV[9]), absolute)

redis.call('HSET', KEYS[1],
  'h', ARGV[2], 'c', ARGV[3], 's', ARGV[4], 'a', ARGV[5], 't', ARGV[6],
  'ca', now, 'lu', now, 'ab', absolute)
if ARGV[7] ~= '' then redis.call('HSET', KEYS[1], 'ua', ARGV[7]) end
if ARGV[12] ~= '' then redis.call('HSET', KEYS[1], 'k', ARGV[12]) end
redis.call('PEXPIREAT', KEYS[1], expires)

local fields = redis.call('HGETALL', KEYS[2])
for i = 1, #fields, 2 do
  if string.sub(fields[i], 1, 2) == 's:' and tonumber(fields[i + 1]) <= now then
    redis.call('HDEL', KEYS[2], fields[i])
  end
end
redis.call('HSET', KEYS[2], 's:' .. ARGV[1], expires)
return expires
