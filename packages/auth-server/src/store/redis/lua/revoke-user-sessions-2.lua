--[[
  Ends every session of a user. Family keys share the user's hash tag, so they
  live in the same Cluster slot as the user hash that indexes them.

  KEYS[1]  user hash         user:{sub}   (index fields "s:<fid>")
  KEYS[2]  family key prefix rt:{sub}:    (a family key is this prefix .. fid)

  Output: the number of live sessions ended
]]
local fields = redis.call('HKEYS', KEYS[1])
local ended = 0
for _, field in ipairs(fields) do
  if string.sub(field, 1, 2) == 's:' then
    ended = ended + redis.call('DEL', KEYS[2] .. string.sub(field, 3))
    redis.call('HDEL', KEYS[1], field)
  end
end
return ended
