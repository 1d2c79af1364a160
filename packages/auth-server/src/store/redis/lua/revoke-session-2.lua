--[[
  Ends one session: deletes its token family and its index entry.

  KEYS[1]  family hash       rt:{sub}:<fid>
  KEYS[2]  user hash         user:{sub}

  ARGV[1]  fid

  Output: 1 when a live session was ended, 0 otherwise
]]
redis.call('HDEL', KEYS[2], 's:' .. ARGV[1])
return redis.call('DEL', KEYS[1])
