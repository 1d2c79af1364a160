import { generateKeyPairSync } from 'node:crypto'
import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { calculateJwkThumbprint, createLocalJWKSet, jwtVerify, SignJWT } from 'jose'
import t from 'tap'
import { Keystore, KeystoreError } from '../../src/keys/keystore.js'

const tempDir = () => mkdtemp(path.join(tmpdir(), 'tollgate-keys-'))

t.test('with no keys, generates RSA-2048, persists it 0600 and reuses it after a restart', async (t) => {
  const dir = await tempDir()
  const first = await Keystore.open({ dir })
  const kid = first.signingKey().kid
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json'))
  t.same(files, [`${kid}.json`])
  t.equal((await stat(path.join(dir, files[0]!))).mode & 0o777, 0o600)
  t.equal((await stat(dir)).mode & 0o777, 0o700)
  const jwk = JSON.parse(await readFile(path.join(dir, files[0]!), 'utf8'))
  t.equal(Buffer.from(jwk.n, 'base64url').length * 8, 2048)
  const second = await Keystore.open({ dir })
  t.equal(second.signingKey().kid, kid, 'same key after restart')
})

t.test('kid is the RFC 7638 thumbprint', async (t) => {
  const keys = await Keystore.open({ dir: undefined })
  const [pub] = keys.publicKeys()
  t.equal(pub?.kid, await calculateJwkThumbprint({ kty: 'RSA', n: pub!.n, e: pub!.e }, 'sha256'))
})

t.test('the JWKS carries only public members', async (t) => {
  const keys = await Keystore.open({ dir: undefined })
  const body = JSON.parse(keys.jwksBody())
  t.equal(body.keys.length, 1)
  t.same(Object.keys(body.keys[0]).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use'])
  t.equal(body.keys[0].use, 'sig')
  t.equal(body.keys[0].alg, 'RS256')
})

t.test('a token signed with the signing key verifies against the published JWKS', async (t) => {
  const keys = await Keystore.open({ dir: undefined })
  const { kid, privateKey } = keys.signingKey()
  const token = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'RS256', kid }).sign(privateKey)
  const { payload } = await jwtVerify(token, createLocalJWKSet(JSON.parse(keys.jwksBody())))
  t.equal(payload.sub, 'x')
})

t.test('loads PEM keys (PKCS#8 and PKCS#1) and JWK files', async (t) => {
  const dir = await tempDir()
  const a = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const b = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const c = generateKeyPairSync('rsa', { modulusLength: 2048 })
  await writeFile(path.join(dir, 'a.pem'), a.privateKey.export({ type: 'pkcs8', format: 'pem' }))
  await writeFile(path.join(dir, 'b.pem'), b.privateKey.export({ type: 'pkcs1', format: 'pem' }))
  await writeFile(path.join(dir, 'c.json'), JSON.stringify(c.privateKey.export({ format: 'jwk' })))
  const keys = await Keystore.open({ dir })
  t.equal(keys.publicKeys().length, 3)
  t.equal((await readdir(dir)).length, 3, 'nothing generated when keys exist')
})

t.test('the newest active key signs; every unexpired key is published', async (t) => {
  let now = 1_000_000
  const keys = await Keystore.open({ dir: undefined, now: () => now })
  const first = keys.signingKey().kid
  const pending = await keys.add({ activatesAt: now + 60_000 })
  t.equal(keys.signingKey().kid, first, 'a pending key does not sign')
  t.equal(keys.publicKeys().length, 2, 'but is published at once')
  now += 60_000
  t.equal(keys.signingKey().kid, pending.kid, 'it signs once active')
  t.same(
    keys.list().map((k) => k.state),
    ['verifying', 'active'],
  )
  await keys.add({ activatesAt: 0, retiresAt: now - 1 })
  t.equal(keys.publicKeys().length, 2, 'a retired key is not published')
})

t.test('a directory of unusable key files stops startup with a clear error', async (t) => {
  const dir = await tempDir()
  await writeFile(path.join(dir, 'broken.pem'), 'not a key')
  const weak = generateKeyPairSync('rsa', { modulusLength: 1024 })
  await writeFile(path.join(dir, 'weak.pem'), weak.privateKey.export({ type: 'pkcs8', format: 'pem' }))
  const err = await Keystore.open({ dir }).catch((e) => e)
  t.ok(err instanceof KeystoreError)
  t.match(err.message, /broken\.pem: not a PEM private key/)
  t.match(err.message, /weak\.pem: RSA key shorter than 2048 bits/)
})

t.test('instances starting together on an empty shared directory end up with one key', async (t) => {
  const dir = await tempDir()
  const stores = await Promise.all(Array.from({ length: 4 }, () => Keystore.open({ dir })))
  const kids = new Set(stores.map((s) => s.signingKey().kid))
  t.equal(kids.size, 1)
  t.equal((await readdir(dir)).filter((f) => f.endsWith('.json')).length, 1)
})

t.test(
  'staged rotation: published at once, signs after the publish delay, predecessor retires after the token lifetime',
  async (t) => {
    let now = 1_000_000
    const keys = await Keystore.open({ dir: undefined, now: () => now, publishDelayMs: 60_000, retireAfterMs: 600_000 })
    const first = keys.signingKey().kid
    const second = await keys.rotate()
    t.same(
      keys.list().map((k) => [k.kid, k.state]),
      [
        [first, 'active'],
        [second.kid, 'pending'],
      ],
    )
    t.equal(keys.publicKeys().length, 2, 'the new key is in the JWKS before it signs')
    now += 59_999
    t.equal(keys.signingKey().kid, first)
    now += 1
    t.equal(keys.signingKey().kid, second.kid, 'signs exactly at activation')
    t.same(
      keys.list().map((k) => k.state),
      ['verifying', 'active'],
    )
    t.equal(keys.list()[0]?.retiresAt, now + 600_000)
    now += 599_999
    t.equal(keys.publicKeys().length, 2, 'still published while its tokens may live')
    now += 1
    t.same(
      keys.publicKeys().map((k) => k.kid),
      [second.kid],
      'retired once every token it signed has expired',
    )
    t.equal(await keys.verificationKey(first), undefined)
  },
)

t.test("instances sharing a directory see each other's rotations on reload and agree on the signer", async (t) => {
  const dir = await tempDir()
  let now = Date.now()
  const clock = () => now
  const a = await Keystore.open({ dir, now: clock, publishDelayMs: 30_000 })
  const b = await Keystore.open({ dir, now: clock, publishDelayMs: 30_000 })
  t.equal(a.signingKey().kid, b.signingKey().kid)
  const rotated = await a.rotate()
  t.equal(b.publicKeys().length, 1, 'b has not reloaded yet')
  await b.reload()
  t.equal(b.publicKeys().length, 2)
  now += 30_000
  t.equal(a.signingKey().kid, rotated.kid)
  t.equal(b.signingKey().kid, rotated.kid, 'both switch at the same moment')
})

t.test('automatic rotation happens once per interval, even with several instances', async (t) => {
  const dir = await tempDir()
  let now = Date.now()
  const clock = () => now
  const instances = await Promise.all([1, 2, 3].map(() => Keystore.open({ dir, now: clock, publishDelayMs: 1_000 })))
  t.equal(await instances[0]!.rotateIfOlderThan(60_000), undefined, 'too early')
  now += 60_000
  const results = await Promise.all(instances.map((k) => k.rotateIfOlderThan(60_000)))
  t.equal(results.filter(Boolean).length, 1, 'exactly one instance rotated')
  t.equal((await readdir(dir)).filter((f) => f.endsWith('.json')).length, 2)
})

t.test('the reload timer picks up keys added by the CLI', async (t) => {
  const dir = await tempDir()
  const reloadIntervalMs = 20
  const server = await Keystore.open({ dir, reloadIntervalMs })
  t.teardown(() => server.close())
  const cli = await Keystore.open({ dir, generateIfMissing: false, publishDelayMs: 60_000 })
  await cli.rotate()
  // Within a few reload intervals; a loaded machine may run the timer late, so wait for it rather than a guess.
  for (let i = 0; i < 500 && server.publicKeys().length < 2; i++) {
    await new Promise((r) => setTimeout(r, reloadIntervalMs))
  }
  t.equal(server.publicKeys().length, 2)
})

t.test('rotating an empty directory creates a key that signs at once', async (t) => {
  const dir = await tempDir()
  const cli = await Keystore.open({ dir, generateIfMissing: false, publishDelayMs: 60_000 })
  t.equal(cli.ready, false)
  await cli.rotate()
  t.equal(cli.ready, true)
})

t.test('SIGNING_ALGS: an RSA, a P-256 and an Ed25519 key, each published with only its public members', async (t) => {
  const dir = await tempDir()
  const keys = await Keystore.open({ dir, algorithms: ['RS256', 'ES256', 'EdDSA'] })
  const { keys: published } = JSON.parse(keys.jwksBody())
  t.same(published.map((k: { alg: string }) => k.alg).sort(), ['ES256', 'EdDSA', 'RS256'])
  const byAlg = Object.fromEntries(published.map((k: { alg: string }) => [k.alg, k]))
  t.same(Object.keys(byAlg.RS256).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use'])
  t.same(Object.keys(byAlg.ES256).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'])
  t.same(Object.keys(byAlg.EdDSA).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x'])
  t.match(byAlg.ES256, { kty: 'EC', crv: 'P-256', use: 'sig' })
  t.match(byAlg.EdDSA, { kty: 'OKP', crv: 'Ed25519', use: 'sig' })
  for (const jwk of published) t.equal(jwk.kid, await calculateJwkThumbprint(jwk, 'sha256'), `${jwk.alg} kid`)
  t.equal((await readdir(dir)).filter((f) => f.endsWith('.json')).length, 3, 'one file per algorithm')
  for (const alg of ['ES256', 'EdDSA'] as const) {
    const { kid, privateKey } = keys.signingKey(alg)
    const token = await new SignJWT({ sub: alg }).setProtectedHeader({ alg, kid }).sign(privateKey)
    const { payload } = await jwtVerify(token, createLocalJWKSet({ keys: published }), { algorithms: [alg] })
    t.equal(payload.sub, alg, `${alg} verifies against the JWKS with exactly its algorithm`)
  }
  const again = await Keystore.open({ dir, algorithms: ['RS256', 'ES256', 'EdDSA'] })
  t.same(
    again.publicKeys().map((k) => k.kid),
    keys.publicKeys().map((k) => k.kid),
    'the same keys after a restart',
  )
  t.throws(() => again.signingKey('ES384' as never), /ES384 is not one of SIGNING_ALGS/)
})

t.test('each algorithm rotates on its own: an ES256 key is published before it signs', async (t) => {
  let now = 1_000_000
  const keys = await Keystore.open({
    dir: undefined,
    now: () => now,
    algorithms: ['RS256', 'ES256'],
    publishDelayMs: 60_000,
    retireAfterMs: 600_000,
  })
  const rsa = keys.signingKey('RS256').kid
  const firstEc = keys.signingKey('ES256').kid
  const next = await keys.rotate('ES256')
  t.equal(next.alg, 'ES256')
  t.ok(
    keys.publicKeys().some((k) => k.kid === next.kid),
    'published at once',
  )
  t.equal(keys.signingKey('ES256').kid, firstEc, 'the old ES256 key still signs')
  t.equal(keys.signingKey('RS256').kid, rsa, 'RS256 is untouched')
  t.same(
    keys.list('ES256').map((k) => [k.alg, k.state]),
    [
      ['ES256', 'active'],
      ['ES256', 'pending'],
    ],
  )
  now += 60_000
  t.equal(keys.signingKey('ES256').kid, next.kid, 'signs after the publish delay')
  t.ok(await keys.verificationKey(firstEc), 'the old key still verifies')
  now += 600_000
  t.equal(await keys.verificationKey(firstEc), undefined, 'retired after the longest token it signed')
  t.ok(await keys.verificationKey(rsa), 'an RS256 key with no successor never retires')
  t.same(
    keys.list().map((k) => k.alg),
    ['RS256', 'ES256', 'ES256'],
  )
})

t.test('rotateAll rotates every algorithm; automatic rotation keeps one schedule per algorithm', async (t) => {
  const dir = await tempDir()
  let now = Date.now()
  const keys = await Keystore.open({ dir, now: () => now, algorithms: ['RS256', 'EdDSA'], publishDelayMs: 1_000 })
  t.same(
    (await keys.rotateAll()).map((k) => k.alg),
    ['RS256', 'EdDSA'],
  )
  now += 60_000
  t.equal((await keys.rotateIfOlderThan(60_000, 'EdDSA'))?.alg, 'EdDSA')
  t.equal(await keys.rotateIfOlderThan(60_000, 'EdDSA'), undefined, 'not again within the interval')
  t.equal(keys.list('EdDSA').length, 3, 'EdDSA rotated twice')
  t.equal(keys.list('RS256').length, 2, 'RS256 only by rotateAll')
})

t.test('loads P-256 and Ed25519 keys from PEM and JWK; refuses keys Tollgate cannot sign with', async (t) => {
  const dir = await tempDir()
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const ed = generateKeyPairSync('ed25519')
  await writeFile(path.join(dir, 'ec.pem'), ec.privateKey.export({ type: 'sec1', format: 'pem' }))
  await writeFile(path.join(dir, 'ed.json'), JSON.stringify(ed.privateKey.export({ format: 'jwk' })))
  const keys = await Keystore.open({ dir, algorithms: ['RS256', 'ES256', 'EdDSA'] })
  t.equal(keys.signingKey('ES256').privateKey.asymmetricKeyType, 'ec')
  t.equal(keys.signingKey('EdDSA').privateKey.asymmetricKeyType, 'ed25519')
  t.equal((await readdir(dir)).length, 3, 'only the RSA key was generated')

  const bad = await tempDir()
  const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' })
  await writeFile(path.join(bad, 'p384.pem'), p384.privateKey.export({ type: 'pkcs8', format: 'pem' }))
  const mislabelled = { ...(ec.privateKey.export({ format: 'jwk' }) as object), alg: 'RS256' }
  await writeFile(path.join(bad, 'mislabelled.json'), JSON.stringify(mislabelled))
  const err = await Keystore.open({ dir: bad }).catch((e) => e)
  t.ok(err instanceof KeystoreError)
  t.match(err.message, /p384\.pem: EC key on curve secp384r1 \(ES256 needs P-256\)/)
  t.match(err.message, /mislabelled\.json: "alg": "RS256" does not fit the key, which signs ES256/)
})

t.test('keys of an algorithm SIGNING_ALGS does not list are neither published nor used', async (t) => {
  const dir = await tempDir()
  const all = await Keystore.open({ dir, algorithms: ['RS256', 'ES256'] })
  const warnings: string[] = []
  const log = { info() {}, warn: (_: object, msg: string) => warnings.push(msg) }
  const rsaOnly = await Keystore.open({ dir, log })
  t.same(
    rsaOnly.publicKeys().map((k) => k.kid),
    [all.signingKey('RS256').kid],
  )
  t.match(warnings, [/KEYS_DIR holds ES256 keys but SIGNING_ALGS does not list ES256/])
  t.throws(() => rsaOnly.signingKey('ES256'), /ES256 is not one of SIGNING_ALGS/)
  await t.rejects(rsaOnly.rotate('ES256'), /ES256 is not one of SIGNING_ALGS/)
})
