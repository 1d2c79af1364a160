--[[
  Takes a pushed authorization request (RFC 9126) once, for the client that pushed it: returns its parameters and
  deletes it. Another client's attempt gets nothing and changes nothing; an expired one is gone (its TTL).

  KEYS[1]  request           par:<id>

  ARGV[1]  client_id using it
  ARGV[2]  deadline (ms, Redis clock): past it, nothing is written

  Output: {'ok', data} | {'none'} | {'late'}
]]
local clock = redis.call('TIME')
if tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000) > tonumber(ARGV[2]) then
  return {'late'}
end
local f = redis.call('HMGET', KEYS[1], 'c', 'd')
if not f[2] or f[1] ~= ARGV[1] then return {'none'} end
redis.call('DEL', KEYS[1])
return {'ok', f[2]}
