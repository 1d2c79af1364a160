import t from 'tap'
import { MemoryStore } from '../../src/store/memory/memory-store.js'
import { storeSuite } from './suite.js'

storeSuite(t, async () => ({ store: new MemoryStore() }))
