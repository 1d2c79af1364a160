// The store contract as tests: every implementation runs this same suite, by record kind.
import type { Test } from 'tap'
import type { Store } from '../../src/store/types.js'
import { authorizationSuite } from './suite/authorizations.js'
import { codeAndCounterSuite } from './suite/codes-counters.js'
import { recordSuite } from './suite/records.js'
import { sessionSuite } from './suite/sessions.js'

export type StoreFactory = () => Promise<{ store: Store; cleanup?: () => Promise<void> }>

/** The store under test: a fresh one before each test. */
export interface SuiteStore {
  store: Store
}

export function storeSuite(t: Test, factory: StoreFactory): void {
  const s = {} as SuiteStore
  let cleanup: (() => Promise<void>) | undefined
  t.beforeEach(async () => {
    ;({ store: s.store, cleanup } = await factory())
  })
  t.afterEach(async () => {
    await cleanup?.()
    await s.store.close()
  })
  recordSuite(t, s)
  sessionSuite(t, s)
  codeAndCounterSuite(t, s)
  authorizationSuite(t, s)
}
