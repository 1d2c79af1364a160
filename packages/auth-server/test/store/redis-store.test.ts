import t from 'tap'
import { startRedis } from '../../../../test/support/redis.js'
import { RedisStore } from '../../src/store/redis/redis-store.js'
import { storeSuite } from './suite.js'

const redis = await startRedis()
t.teardown(() => redis.stop())

let run = 0
storeSuite(t, async () => {
  const store = await RedisStore.connect({ url: redis.url, prefix: `${redis.prefix}${run++}:` })
  return { store }
})
