// Signing algorithms per audience against real processes: an auth server with SIGNING_ALGS=RS256,ES256,EdDSA, one
// resource API per audience, unmodified jose, oauth4webapi and openid-client, forged variants of every token, a staged
// ES256 rotation through the CLI; and a server with SIGNING_ALGS unset, where nothing changed.
import { createHmac, generateKeyPairSync, type KeyObject, sign } from 'node:crypto'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'
import * as oauth from 'oauth4webapi'
import * as oidc from 'openid-client'
import t from 'tap'
import { ALICE, tokenRequest } from '../support/fixtures.js'
import { tollgate } from '../support/load.js'
import { freePort } from '../support/ports.js'
import { type Service, startAuthServer, startResourceApi } from '../support/services.js'

const ALGS = ['RS256', 'ES256', 'EdDSA'] as const
type Alg = (typeof ALGS)[number]
const SERVICE = { id: 'algs-svc', secret: 'algs-secret-0123456789abcdef0123456789abcdef' }
const APP = { id: 'es-app', secret: 'es-app-secret-0123456789abcdef0123456789abcdef' }

const dir = await mkdtemp(path.join(tmpdir(), 'tollgate-algs-'))
const keysDir = path.join(dir, 'keys')
const authPort = await freePort()
const issuer = `http://127.0.0.1:${authPort}`
const apiPorts = { RS256: await freePort(), ES256: await freePort(), EdDSA: await freePort() }
const audienceOf = (alg: Alg) => `http://127.0.0.1:${apiPorts[alg]}`
const file = path.join(dir, 'bootstrap.json')
await writeFile(
  file,
  JSON.stringify({
    clients: [
      {
        client_id: SERVICE.id,
        client_secret: SERVICE.secret,
        grant_types: ['client_credentials'],
        scopes: ['notes:read'],
        audiences: ALGS.map(audienceOf),
      },
      {
        client_id: APP.id,
        client_secret: APP.secret,
        grant_types: ['password', 'refresh_token'],
        scopes: ['openid', 'profile', 'notes:read'],
        audiences: [audienceOf('ES256')],
        id_token_signed_response_alg: 'ES256',
      },
    ],
    users: [ALICE],
    resources: [
      { audience: audienceOf('ES256'), access_token_signing_alg: 'ES256' },
      { audience: audienceOf('EdDSA'), access_token_signing_alg: 'EdDSA' },
    ],
  }),
)
const env = {
  ISSUER: issuer,
  BOOTSTRAP_FILE: file,
  KEYS_DIR: keysDir,
  SIGNING_ALGS: 'RS256,ES256,EdDSA',
  KEY_PUBLISH_DELAY: '3600',
  KEYS_RELOAD_INTERVAL: '1',
}
const auth = await startAuthServer({ port: authPort, env })
t.teardown(() => auth.stop())
const apis = {} as Record<Alg, Service>
for (const alg of ALGS) {
  apis[alg] = await startResourceApi({ port: apiPorts[alg], env: { ISSUER: issuer, AUDIENCE: audienceOf(alg) } })
  t.teardown(() => apis[alg].stop())
}

const tokenUrl = `${issuer}/oauth/token`
const serviceToken = async (alg: Alg) => {
  const res = await tokenRequest(tokenUrl, { grant_type: 'client_credentials', resource: audienceOf(alg) }, SERVICE)
  if (res.status !== 200) throw new Error(JSON.stringify(res.body))
  return res.body.access_token as string
}
const me = (alg: Alg, token: string) =>
  fetch(`${apis[alg].url}/v1/me`, { headers: { authorization: `Bearer ${token}` } })
const jwks = async () =>
  (await (await fetch(`${issuer}/.well-known/jwks.json`)).json()) as { keys: Record<string, string>[] }
const remoteKeys = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`))
const insecure = { [oauth.allowInsecureRequests]: true }
const as = await oauth.processDiscoveryResponse(
  new URL(issuer),
  await oauth.discoveryRequest(new URL(issuer), insecure),
)

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
const parts = (token: string) => {
  const [h, p, s] = token.split('.') as [string, string, string]
  return { header: JSON.parse(Buffer.from(h, 'base64url').toString()), h, p, s }
}
/** Signs `header.payload` with any key, as an attacker holding it would. */
function signWith(alg: string, key: KeyObject, header: object, payload: string): string {
  const input = `${b64(header)}.${payload}`
  const data = Buffer.from(input)
  const signature =
    alg === 'EdDSA'
      ? sign(null, data, key)
      : alg === 'ES256'
        ? sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' })
        : sign('sha256', data, key)
  return `${input}.${signature.toString('base64url')}`
}
const attackerKeys = {
  RS256: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
  ES256: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
  EdDSA: generateKeyPairSync('ed25519').privateKey,
}

t.test('the JWKS holds an RSA, a P-256 and an Ed25519 key, without private members', async (t) => {
  const { keys } = await jwks()
  t.same(keys.map((k) => `${k.kty} ${k.crv ?? ''} ${k.alg}`).sort(), [
    'EC P-256 ES256',
    'OKP Ed25519 EdDSA',
    'RSA  RS256',
  ])
  for (const key of keys) {
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) t.notOk(member in key, `${key.alg} has no ${member}`)
    t.equal(key.use, 'sig')
  }
})

t.test('each audience gets its algorithm; jose and oauth4webapi verify with exactly that one', async (t) => {
  for (const alg of ALGS) {
    const token = await serviceToken(alg)
    t.equal(decodeProtectedHeader(token).alg, alg, `${audienceOf(alg)}: ${alg}`)
    const { payload } = await jwtVerify(token, remoteKeys, { algorithms: [alg], issuer, audience: audienceOf(alg) })
    t.equal(payload.client_id, SERVICE.id)
    await t.rejects(
      jwtVerify(token, remoteKeys, { algorithms: ALGS.filter((a) => a !== alg) }),
      `${alg}: refused when ${alg} is not allowed`,
    )
    const request = new Request(`${audienceOf(alg)}/v1/me`, { headers: { authorization: `Bearer ${token}` } })
    const claims = await oauth.validateJwtAccessToken(as, request, audienceOf(alg), {
      ...insecure,
      signingAlgorithms: [alg],
    })
    t.equal(claims.client_id, SERVICE.id, `oauth4webapi validates the ${alg} token (RFC 9068)`)
  }
})

t.test('the resource API accepts each for its audience and refuses forged variants', async (t) => {
  const { keys } = await jwks()
  const kidOf = (alg: Alg) => keys.find((k) => k.alg === alg)?.kid as string
  for (const alg of ALGS) {
    const token = await serviceToken(alg)
    const res = await me(alg, token)
    t.equal(res.status, 200, `${alg} accepted`)
    t.equal(((await res.json()) as { sub: string }).sub, SERVICE.id)
    const { header, h, p, s } = parts(token)
    const others = ALGS.filter((a) => a !== alg)
    const flipped = Buffer.from(s, 'base64url')
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] as number) ^ 1
    const forged: [string, string][] = [
      ...others.map((other): [string, string] => [
        `header alg ${other}`,
        `${b64({ ...header, alg: other })}.${p}.${s}`,
      ]),
      ...others.map((other): [string, string] => [
        `kid of the ${other} key`,
        `${b64({ ...header, kid: kidOf(other) })}.${p}.${s}`,
      ]),
      ['re-signed by an attacker key under the real kid', signWith(alg, attackerKeys[alg], header, p)],
      ...others.map((other): [string, string] => [
        `re-signed ${other} by an attacker under the real ${other} kid`,
        signWith(other, attackerKeys[other], { ...header, alg: other, kid: kidOf(other) }, p),
      ]),
      ['a flipped signature bit', `${h}.${p}.${flipped.toString('base64url')}`],
      ['alg none', `${b64({ ...header, alg: 'none' })}.${p}.`],
      [
        'HS256 keyed with the public key',
        (() => {
          const input = `${b64({ ...header, alg: 'HS256' })}.${p}`
          const secret = JSON.stringify(keys.find((k) => k.kid === header.kid))
          return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
        })(),
      ],
    ]
    for (const [what, variant] of forged) {
      const refused = await me(alg, variant)
      t.equal(refused.status, 401, `${alg}, ${what}: 401`)
      t.match(refused.headers.get('www-authenticate'), /error="invalid_token"/)
    }
    t.equal((await me(alg, token)).status, 200, `${alg}: the genuine token still works`)
  }
})

t.test('openid-client accepts an ES256 ID token for the client that registered it', async (t) => {
  const config = await oidc.discovery(
    new URL(issuer),
    APP.id,
    { client_secret: APP.secret, id_token_signed_response_alg: 'ES256' },
    undefined,
    { execute: [oidc.allowInsecureRequests] },
  )
  t.ok(config.serverMetadata().id_token_signing_alg_values_supported?.includes('ES256'))
  const login = await oidc.genericGrantRequest(config, 'password', {
    username: ALICE.username,
    password: ALICE.password,
    scope: 'openid profile notes:read',
  })
  t.equal(decodeProtectedHeader(login.id_token as string).alg, 'ES256')
  t.equal(login.claims()?.aud, APP.id, 'validated by openid-client')
  const refreshed = await oidc.refreshTokenGrant(config, login.refresh_token as string)
  t.equal(decodeProtectedHeader(refreshed.id_token as string).alg, 'ES256')
  t.ok(refreshed.claims()?.sub)
})

t.test('an ES256 rotation (tollgate keys rotate --alg ES256) is published before it signs', async (t) => {
  const cliEnv = {
    KEYS_DIR: keysDir,
    SIGNING_ALGS: 'RS256,ES256,EdDSA',
    KEY_PUBLISH_DELAY: '3600',
    REDIS_URL: undefined,
  }
  const before = await serviceToken('ES256')
  const oldKid = decodeProtectedHeader(before).kid
  const rotated = await tollgate(['keys', 'rotate', '--alg', 'ES256', '--json'], cliEnv)
  t.equal(rotated.code, 0, rotated.stderr)
  const next = JSON.parse(rotated.stdout) as { kid: string; alg: string; state: string }
  t.match(next, { alg: 'ES256', state: 'pending' })
  // The server re-reads KEYS_DIR every KEYS_RELOAD_INTERVAL (1 s): wait for that, bounded.
  for (let i = 0; i < 200 && !(await jwks()).keys.some((k) => k.kid === next.kid); i++) {
    await new Promise((r) => setTimeout(r, 100))
  }
  t.ok(
    (await jwks()).keys.some((k) => k.kid === next.kid),
    'the new key is published',
  )
  t.equal(decodeProtectedHeader(await serviceToken('ES256')).kid, oldKid, 'the old key still signs')
  t.equal((await me('ES256', before)).status, 200, 'old tokens keep verifying')
  const listed = await tollgate(['keys', 'list', '--alg', 'ES256', '--json'], cliEnv)
  t.same(
    (JSON.parse(listed.stdout) as { alg: string; state: string }[]).map((k) => `${k.alg} ${k.state}`),
    ['ES256 active', 'ES256 pending'],
  )
  const all = JSON.parse((await tollgate(['keys', 'list', '--json'], cliEnv)).stdout) as { alg: string }[]
  t.same([...new Set(all.map((k) => k.alg))], ['RS256', 'ES256', 'EdDSA'])
  const unknown = await tollgate(['keys', 'rotate', '--alg', 'ES256'], { ...cliEnv, SIGNING_ALGS: 'RS256' })
  t.equal(unknown.code, 1)
  t.match(unknown.stderr, /--alg: ES256 is not in SIGNING_ALGS \(RS256\)/)
})

t.test('with SIGNING_ALGS unset nothing changes: one RSA key, RS256 tokens and ID tokens', async (t) => {
  const plainDir = await mkdtemp(path.join(tmpdir(), 'tollgate-algs-plain-'))
  const plainFile = path.join(plainDir, 'bootstrap.json')
  const port = await freePort()
  const plainIssuer = `http://127.0.0.1:${port}`
  await writeFile(
    plainFile,
    JSON.stringify({
      clients: [
        {
          client_id: SERVICE.id,
          client_secret: SERVICE.secret,
          grant_types: ['client_credentials'],
          audiences: ['https://plain.test'],
        },
      ],
    }),
  )
  const plain = await startAuthServer({
    port,
    env: { ISSUER: plainIssuer, BOOTSTRAP_FILE: plainFile, KEYS_DIR: path.join(plainDir, 'keys') },
  })
  t.teardown(() => plain.stop())
  const { keys } = (await (await fetch(`${plainIssuer}/.well-known/jwks.json`)).json()) as { keys: object[] }
  t.same(
    keys.map((k) => Object.keys(k).sort()),
    [['alg', 'e', 'kid', 'kty', 'n', 'use']],
  )
  const metadata = (await (await fetch(`${plainIssuer}/.well-known/openid-configuration`)).json()) as Record<
    string,
    unknown
  >
  t.same(metadata.id_token_signing_alg_values_supported, ['RS256'])
  const res = await tokenRequest(`${plainIssuer}/oauth/token`, { grant_type: 'client_credentials' }, SERVICE)
  t.same(Object.keys(decodeProtectedHeader(res.body.access_token as string)).sort(), ['alg', 'kid', 'typ'])
  t.equal(decodeProtectedHeader(res.body.access_token as string).alg, 'RS256')
})
