--[[
  A user's live sessions, pruning index entries whose family has expired or gone.

  KEYS[1]  user hash         user:{sub}   (index fields "s:<fid>")
  KEYS[2]  family key prefix rt:{sub}:

  ARGV[1]  now (ms)

  Output: a flat list, 7 entries per session:
    fid, client_id, created_at, last_used_at, user_agent, expires, scope
]]
local out = {}
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  local field = fields[i]
  if string.sub(field, 1, 2) == 's:' then
    local fid = string.sub(field, 3)
    local f = redis.call('HMGET', KEYS[2] .. fid, 'c', 'ca', 'lu', 'ua', 's')
    if f[1] and tonumber(fields[i + 1]) > tonumber(ARGV[1]) then
      table.insert(out, fid)
      table.insert(out, f[1])
      table.insert(out, f[2])
      table.insert(out, f[3])
      table.insert(out, f[4] or '')
      table.insert(out, tostring(redis.call('PEXPIRETIME', KEYS[2] .. fid)))
      table.insert(out, f[5])
    else
      redis.call('HDEL', KEYS[1], field)
    end
  end
end
return out
