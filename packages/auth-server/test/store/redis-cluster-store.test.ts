import t from 'tap'
import { startRedisCluster } from '../../../../test/support/redis.js'
import { RedisStore } from '../../src/store/redis/redis-store.js'
import { storeSuite } from './suite.js'

// The same suite against a local 3-master Redis Cluster: every script must stay within one hash slot.
const cluster = await startRedisCluster()
t.teardown(() => cluster.stop())

let run = 0
storeSuite(t, async () => {
  const store = await RedisStore.connect({ clusterNodes: cluster.seeds, prefix: `${cluster.prefix}${run++}:` })
  t.equal(store.kind, 'redis-cluster')
  return { store }
})
