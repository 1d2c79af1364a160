// Attack catalogue, verifier side (beyond verifier.test.ts): tokens crafted to confuse a parser or a policy.
import { SignJWT } from 'jose'
import t from 'tap'
import { createVerifier, InvalidTokenError } from '../src/index.js'
import { AUDIENCE, claims, ISSUER, JWKS_URI, jwksServer, makeKey, mint, signRaw } from './helpers.js'

const key = await makeKey('k1')
const verifier = createVerifier({
  issuer: ISSUER,
  audience: AUDIENCE,
  jwksUri: JWKS_URI,
  fetch: jwksServer([key.jwk]).fetch,
})
const header = { alg: 'RS256', typ: 'at+jwt', kid: 'k1' }
const refusedWith = async (token: string) => {
  const err = await verifier.verify(token).then(
    () => undefined,
    (e: unknown) => e,
  )
  return err instanceof InvalidTokenError ? err.code : `accepted or wrong error: ${String(err)}`
}

t.test('even signed by the real key, these are refused', async (t) => {
  const good = JSON.stringify(claims())
  const cases: [string, string, string | object][] = [
    [
      'duplicate "typ" in the header (last one says JWT)',
      'ERR_TOKEN_MALFORMED',
      '{"alg":"RS256","typ":"at+jwt","kid":"k1","typ":"JWT"}',
    ],
    ['duplicate "alg" in the header', 'ERR_TOKEN_MALFORMED', '{"alg":"none","alg":"RS256","typ":"at+jwt","kid":"k1"}'],
    ['duplicate "sub" in the payload', 'ERR_TOKEN_MALFORMED', `${good.slice(0, -1)},"sub":"admin"}`],
    ['duplicate "aud" in the payload', 'ERR_TOKEN_MALFORMED', `{"aud":"https://elsewhere",${good.slice(1)}`],
    ['a nested JWT (cty: JWT, payload is a token)', 'ERR_TOKEN_MALFORMED', JSON.stringify({ ...header, cty: 'JWT' })],
    [
      'crit naming an extension we do not know',
      'ERR_TOKEN_MALFORMED',
      JSON.stringify({ ...header, crit: ['exp'], exp: 1 }),
    ],
    [
      'crit with b64:false (unencoded payload)',
      'ERR_TOKEN_MALFORMED',
      JSON.stringify({ ...header, crit: ['b64'], b64: false }),
    ],
  ]
  for (const [name, code, head] of cases) {
    const payload = name.startsWith('a nested')
      ? await mint(key)
      : name.startsWith('duplicate "sub"') || name.startsWith('duplicate "aud"')
        ? (head as string)
        : good
    const h = name.startsWith('duplicate "sub"') || name.startsWith('duplicate "aud"') ? JSON.stringify(header) : head
    t.equal(await refusedWith(await signRaw(key, h, payload)), code, name)
  }
})

t.test('claims of the wrong type or shape', async (t) => {
  const cases: [string, Record<string, unknown>][] = [
    ['exp as a string', { exp: String(Math.floor(Date.now() / 1000) + 300) }],
    ['iat as a string', { iat: String(Math.floor(Date.now() / 1000)) }],
    ['nbf as a string', { nbf: '0' }],
    ['aud as an array without this API', { aud: ['https://a.test', 'https://b.test'] }],
    ['aud as an array of non-strings', { aud: [1, 2] }],
    ['aud as an object', { aud: { 0: AUDIENCE } }],
    ['sub as a number', { sub: 42 }],
    ['client_id missing', { client_id: undefined }],
    ['scope as an array', { scope: ['notes:read'] }],
    ['roles as an object', { roles: { admin: true } }],
    ['iss with a trailing slash', { iss: `${ISSUER}/` }],
  ]
  for (const [name, overrides] of cases) {
    t.match(await refusedWith(await signRaw(key, header, claims(overrides as never))), /^ERR_TOKEN_/, name)
  }
  const ok = await verifier.verify(await mint(key, claims({ aud: ['https://a.test', AUDIENCE] })))
  t.equal(ok.sub, 'user-1', 'an aud array that contains this API is accepted (RFC 7519 §4.1.3)')
})

t.test('algorithm confusion beyond HS256', async (t) => {
  for (const alg of ['RS384', 'RS512', 'PS256', 'ES256', 'EdDSA', 'none', 'HS512', 'rs256']) {
    t.match(await refusedWith(await signRaw(key, { ...header, alg }, claims())), /^ERR_TOKEN_(ALG|MALFORMED)$/, alg)
  }
})

t.test('kid tricks', async (t) => {
  for (const kid of ['../../etc/passwd', '', ' k1', 'k1 ', 'K1', 'k1\u0000', "k1' OR '1'='1"]) {
    const token = await new SignJWT(claims()).setProtectedHeader({ ...header, kid }).sign(key.privateKey)
    t.match(await refusedWith(token), /^ERR_TOKEN_/, JSON.stringify(kid))
  }
})

t.test('segment tricks', async (t) => {
  const token = await mint(key)
  const [h, p, s] = token.split('.') as [string, string, string]
  const cases = [
    `${h}.${p}.${s}.`,
    `${h}.${p}`,
    `${h}..${s}`,
    `${h}.${p}.${s}=`,
    `${h} .${p}.${s}`,
    `${h}.${p}.${s.slice(0, -2)}`,
    `${h}.${p}.${Buffer.from(s, 'base64url').toString('base64')}`,
    `${h}.${p.toUpperCase()}.${s}`,
    // The same signature bytes, spelled with non-zero unused trailing bits.
    `${h}.${p}.${s.slice(0, -1)}${'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(s.slice(-1)) ^ 1]}`,
  ]

  for (const variant of cases) t.match(await refusedWith(variant), /^ERR_TOKEN_/, variant.slice(-12))
})
