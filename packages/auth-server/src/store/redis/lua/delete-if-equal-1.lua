--[[
  Deletes a string key only if it still holds the expected value
  (compare-and-delete, so a stale writer never removes someone else's claim).

  KEYS[1]  the key
  ARGV[1]  the expected value

  Output: 1 when deleted, 0 otherwise
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
