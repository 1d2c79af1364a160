import { availableParallelism } from 'node:os'
import argon2 from 'argon2'
import t from 'tap'
import { SecretHasher } from '../src/clients/secrets.js'
import { HASH_CONCURRENCY, hashingLoad, hashPassword, PASSWORD_PARAMS, verifyPassword } from '../src/users/passwords.js'

t.test('passwords are argon2id with at least OWASP parameters', async (t) => {
  const hash = await hashPassword('pw-123456')
  t.match(hash, /^\$argon2id\$v=19\$m=19456,p=1,t=2\$/)
  t.same(await verifyPassword(hash, 'pw-123456'), { ok: true })
  t.same(await verifyPassword(hash, 'wrong'), { ok: false })
})

t.test('an outdated hash is upgraded on a successful login', async (t) => {
  const weak = await argon2.hash('pw-123456', { type: argon2.argon2i, memoryCost: 4096, timeCost: 1, parallelism: 1 })
  const check = await verifyPassword(weak, 'pw-123456')
  t.equal(check.ok, true)
  t.match(check.rehash, /^\$argon2id\$v=19\$m=19456,p=1,t=2\$/)
  t.equal(argon2.needsRehash(check.rehash!, PASSWORD_PARAMS), false)
})

t.test('no user: the dummy check fails and costs real argon2 work', async (t) => {
  // Which hashes argon2 verifies against (a timing comparison here failed under CI's parallel load).
  const verifiedAgainst: string[] = []
  const passwords = await t.mockImport<typeof import('../src/users/passwords.js')>('../src/users/passwords.js', {
    argon2: {
      default: {
        ...argon2,
        verify: (hash: string, password: string) => {
          verifiedAgainst.push(hash)
          return argon2.verify(hash, password)
        },
      },
    },
  })
  t.same(await passwords.verifyPassword(undefined, 'anything'), { ok: false })
  t.equal(verifiedAgainst.length, 1, 'argon2 ran for the unknown user')
  const dummy = verifiedAgainst[0] as string
  t.match(dummy, /^\$argon2id\$/)
  t.equal(argon2.needsRehash(dummy, PASSWORD_PARAMS), false, 'with the parameters of a real hash, so it costs the same')
  t.same(await passwords.verifyPassword(undefined, 'pw-123456'), { ok: false }, 'no password opens the dummy')
})

t.test('over-long passwords are refused without hashing', async (t) => {
  t.same(await verifyPassword(await hashPassword('x'.repeat(10)), 'x'.repeat(2000)), { ok: false })
})

t.test('client secrets: keyed hash, constant-time check', async (t) => {
  const hasher = new SecretHasher(Buffer.alloc(32, 7))
  const stored = hasher.hash('s3cret')
  t.match(stored, /^hmac-sha256\$[A-Za-z0-9_-]{43}$/)
  t.notMatch(stored, 's3cret')
  t.equal(hasher.verify('s3cret', stored), true)
  t.equal(hasher.verify('s3cret!', stored), false)
  t.equal(hasher.verify('s3cret', undefined), false)
  t.not(new SecretHasher(Buffer.alloc(32, 8)).hash('s3cret'), stored, 'the key matters')
  t.throws(() => new SecretHasher(Buffer.alloc(8)), TypeError)
})

t.test('at most HASH_CONCURRENCY hashes run at once; the rest wait their turn and all complete', async (t) => {
  const stored = await hashPassword('correct horse battery staple')
  const checks = Array.from({ length: HASH_CONCURRENCY + 4 }, (_, i) =>
    verifyPassword(stored, i % 2 === 0 ? 'correct horse battery staple' : 'wrong password'),
  )
  await new Promise((resolve) => setTimeout(resolve, 5))
  const load = hashingLoad()
  t.equal(load.running, HASH_CONCURRENCY, 'every slot busy')
  t.equal(load.running + load.waiting, HASH_CONCURRENCY + 4, 'nobody skipped the queue')
  const results = await Promise.all(checks)
  t.same(
    results.map((r) => r.ok),
    results.map((_, i) => i % 2 === 0),
  )
  t.same(hashingLoad(), { running: 0, waiting: 0 })
  t.ok(HASH_CONCURRENCY >= 1 && HASH_CONCURRENCY < Math.max(2, availableParallelism()), 'a core is left free')
})
