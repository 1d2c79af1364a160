--[[
  Redeems an authorization code exactly once, by the client it was issued to.
  The first redemption marks it used and returns it; any later one by that
  client reports the reuse (with what the first one issued, so it can be
  revoked) until the code's TTL ends. Another client's attempt changes nothing:
  only the rightful owner can spend (or burn) a code.

  KEYS[1]  code hash         code:<hash of the code>

  ARGV[1]  client_id presenting the code
  ARGV[2]  deadline (ms, Redis clock): past it, nothing is written
  ARGV[3]  thumbprint of the request's DPoP key ('' = no proof)

  Output: {'ok', data} | {'reused', data} | {'wrong_client'} | {'wrong_key'} | {'invalid'} | {'late'}
]]
-- A caller that timed out has answered 503: applying the write now would change what it was told failed.
local clock = redis.call('TIME')
if tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000) > tonumber(ARGV[2]) then
  return {'late'}
end
local f = redis.call('HMGET', KEYS[1], 'd', 'u', 'c', 'j')
if not f[1] then return {'invalid'} end
if f[3] ~= ARGV[1] then return {'wrong_client'} end
if f[4] and f[4] ~= ARGV[3] then return {'wrong_key'} end
if f[2] then return {'reused', f[1]} end
redis.call('HSET', KEYS[1], 'u', '1')
return {'ok', f[1]}
