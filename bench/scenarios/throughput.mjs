// The throughput scenarios: Tollgate's endpoints and the baselines and peers they are compared with.

import {
  EDDSA_AUDIENCE,
  ES256_AUDIENCE,
  EXCHANGER,
  form,
  formHeaders,
  OIDC,
  SERVICE,
  TOKEN_EXCHANGE,
  USER,
  WEB,
} from '../fixtures.mjs'
import { cannon, sleep } from '../lib.mjs'
import { assertion, withAssertions } from './assertions.mjs'
import { boundToken, proofKey, withProofs } from './dpop.mjs'

const CHAINS = 100

/**
 * Refresh chains: each request takes a chain no other request is using, presents its current token and puts the
 * chain back with the successor, so every chain is walked strictly one refresh after another, as a real client does.
 */
function chainRequests(tokens, url, client) {
  const idle = tokens.map((token) => ({ token }))
  return {
    url,
    requests: [
      {
        method: 'POST',
        headers: formHeaders(client),
        setupRequest: (req, context) => {
          context.chain = idle.pop()
          if (!context.chain) throw new Error('more connections than refresh chains')
          return { ...req, body: form({ grant_type: 'refresh_token', refresh_token: context.chain.token }) }
        },
        onResponse: (status, body, context) => {
          if (status === 200) context.chain.token = JSON.parse(body).refresh_token
          idle.push(context.chain)
        },
      },
    ],
  }
}

/**
 * Every scenario by name: a function of the duration (seconds) that runs it once and resolves with its figures.
 * `s` holds the running servers (`hello`, `signer`, `fastifyJwt`, `oidc`, `api`, `apiNoRevocation`, `issuer`) and
 * `token(fields,
 * client)`, a token request to Tollgate.
 */
export async function throughputScenarios(s) {
  const accessToken = (await s.token({ grant_type: 'client_credentials' }, SERVICE)).access_token
  const es256Token = (await s.token({ grant_type: 'client_credentials', resource: ES256_AUDIENCE }, SERVICE))
    .access_token
  if (JSON.parse(Buffer.from(es256Token.split('.')[0], 'base64url')).alg !== 'ES256') {
    throw new Error('the ES256 audience did not get an ES256 token')
  }
  if ((await fetch(`${s.apiES256.url}/v1/me`, { headers: { authorization: `Bearer ${es256Token}` } })).status !== 200) {
    throw new Error('the resource API does not accept the ES256 bench token')
  }
  const keyed = await fetch(`${s.issuer}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion(s.issuer),
    }),
  })
  if (keyed.status !== 200) throw new Error(`private_key_jwt failed: ${keyed.status} ${await keyed.text()}`)
  const jwtToken = (await (await fetch(`${s.fastifyJwt.url}/token`)).json()).token
  if ((await fetch(`${s.api.url}/v1/me`, { headers: { authorization: `Bearer ${accessToken}` } })).status !== 200) {
    throw new Error('the resource API does not accept the bench token')
  }
  const ccBody = form({ grant_type: 'client_credentials' })
  // Signing algorithms per audience: the same grant for an ES256 and an EdDSA audience.
  const ccES256Body = form({ grant_type: 'client_credentials', resource: ES256_AUDIENCE })
  const ccEdDSABody = form({ grant_type: 'client_credentials', resource: EDDSA_AUDIENCE })
  const login = form({ grant_type: 'password', username: USER.username, password: USER.password })
  const run = (options) => (duration) => cannon({ ...options, duration })
  const tokenUrl = `${s.issuer}/oauth/token`
  // DPoP: a key per algorithm, a token bound to each, and proofs enough for 30 000 requests a second.
  const enough = (duration) => Math.ceil(duration * 30_000)
  const dpopRoute = async (alg) => {
    const key = proofKey(alg)
    const token = await boundToken(s.issuer, key)
    const url = `${s.api.url}/v1/me`
    return withProofs({
      url,
      headers: { authorization: `DPoP ${token}` },
      make: () => key.proof('GET', url, token),
      count: enough,
    })
  }
  const ccKey = proofKey('ES256')
  // Token exchange: one user token, exchanged again and again (one verification and one signature per request).
  const subjectToken = (await s.token(Object.fromEntries(new URLSearchParams(login)), WEB)).access_token
  const exchangeBody = form({
    grant_type: TOKEN_EXCHANGE,
    subject_token: subjectToken,
    subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
  })
  const probe = await s.token(Object.fromEntries(new URLSearchParams(exchangeBody)), EXCHANGER)
  if (probe.issued_token_type === undefined) throw new Error(`token exchange failed: ${JSON.stringify(probe)}`)
  return {
    hello: run({ url: `${s.hello.url}/` }),
    resourceApi: run({ url: `${s.api.url}/v1/me`, headers: { authorization: `Bearer ${accessToken}` } }),
    resourceApiNoRevocation: run({
      url: `${s.apiNoRevocation.url}/v1/me`,
      headers: { authorization: `Bearer ${accessToken}` },
    }),
    resourceApiES256: run({ url: `${s.apiES256.url}/v1/me`, headers: { authorization: `Bearer ${es256Token}` } }),
    fastifyJwt: run({ url: `${s.fastifyJwt.url}/protected`, headers: { authorization: `Bearer ${jwtToken}` } }),
    signToken: run({ url: `${s.signer.url}/token`, method: 'POST', headers: formHeaders(SERVICE), body: ccBody }),
    signTokenES256: run({
      url: `${s.signerES256.url}/token`,
      method: 'POST',
      headers: formHeaders(SERVICE),
      body: ccBody,
    }),
    signTokenEdDSA: run({
      url: `${s.signerEdDSA.url}/token`,
      method: 'POST',
      headers: formHeaders(SERVICE),
      body: ccBody,
    }),
    tokenClientCredentials: run({ url: tokenUrl, method: 'POST', headers: formHeaders(SERVICE), body: ccBody }),
    tokenClientCredentialsES256: run({
      url: tokenUrl,
      method: 'POST',
      headers: formHeaders(SERVICE),
      body: ccES256Body,
    }),
    tokenClientCredentialsEdDSA: run({
      url: tokenUrl,
      method: 'POST',
      headers: formHeaders(SERVICE),
      body: ccEdDSABody,
    }),
    tokenClientCredentialsDpop: withProofs({
      url: tokenUrl,
      method: 'POST',
      headers: formHeaders(SERVICE),
      body: ccBody,
      make: () => ccKey.proof('POST', tokenUrl),
      count: (duration) => Math.ceil(duration * 10_000),
    }),
    tokenExchange: run({ url: tokenUrl, method: 'POST', headers: formHeaders(EXCHANGER), body: exchangeBody }),
    // A fresh assertion per request (each jti is accepted once): enough for 10 000 requests a second.
    tokenClientCredentialsPrivateKeyJwt: withAssertions({
      issuer: s.issuer,
      count: (duration) => Math.ceil(duration * 10_000),
    }),
    resourceApiDpopES256: await dpopRoute('ES256'),
    resourceApiDpopEdDSA: await dpopRoute('EdDSA'),
    oidcClientCredentials: run({
      url: `${s.oidc.url}/token`,
      method: 'POST',
      headers: formHeaders(OIDC),
      body: form({ grant_type: 'client_credentials', scope: 'notes:read', resource: 'https://api.test' }),
    }),
    // Fresh chains for every slice: a request cut off when a slice ends may have rotated its chain without the client
    // seeing the successor, and presenting the old token later is (correctly) treated as reuse.
    refreshRotation: async (duration) => {
      const chains = []
      for (let i = 0; i < CHAINS; i++) {
        chains.push(
          (await s.token({ grant_type: 'password', username: USER.username, password: USER.password }, WEB))
            .refresh_token,
        )
      }
      return cannon({ ...chainRequests(chains, tokenUrl, WEB), duration })
    },
    oidcRefresh: async (duration) => {
      const chains = (await (await fetch(`${s.oidc.url}/bench/refresh-tokens?n=${CHAINS}`)).json()).tokens
      return cannon({ ...chainRequests(chains, `${s.oidc.url}/token`, OIDC), duration })
    },
    passwordLogin: run({ url: tokenUrl, method: 'POST', headers: formHeaders(WEB), body: login, connections: 32 }),
    jwks: run({ url: `${s.issuer}/.well-known/jwks.json` }),
    healthzDuringLogins: async (duration) => {
      const after = async (url) => {
        await sleep(300) // let the logins saturate first
        return cannon({ url, connections: 2, duration: Math.max(1, duration - 0.5) })
      }
      const [logins, health, jwks] = await Promise.all([
        cannon({ url: tokenUrl, method: 'POST', headers: formHeaders(WEB), body: login, connections: 32, duration }),
        after(`${s.issuer}/healthz`),
        after(`${s.issuer}/.well-known/jwks.json`),
      ])
      return { ...health, jwksRps: jwks.rps, jwksP99: jwks.p99, loginsRps: logins.rps }
    },
  }
}

/**
 * A scenario and the baselines and peers it is compared with take turns in short slices (A B C A B C …) rather
 * than one long run each: on a shared VM the speed of loopback HTTP drifts by 2× within minutes, and interleaving
 * exposes every member of a group to the same drift, so the per-round ratios measure the servers, not the moment.
 */
export const GROUPS = [
  [
    'hello',
    'resourceApi',
    'resourceApiES256',
    'fastifyJwt',
    'resourceApiNoRevocation',
    'resourceApiDpopES256',
    'resourceApiDpopEdDSA',
    'gateVerify',
  ],
  // nginx in front of the same upstream, with and without an auth request to the gate (bench/scenarios/gate.mjs).
  ['nginxPlain', 'nginxGate'],
  [
    'signToken',
    'tokenClientCredentials',
    'signTokenES256',
    'tokenClientCredentialsES256',
    'signTokenEdDSA',
    'tokenClientCredentialsEdDSA',
    'tokenClientCredentialsPrivateKeyJwt',
    'tokenClientCredentialsDpop',
    'tokenExchange',
    'oidcClientCredentials',
    'refreshRotation',
    'oidcRefresh',
  ],
  ['passwordLogin'],
  ['jwks'],
  ['healthzDuringLogins'],
]

/** One round's figures from its slices: throughput and error share over all of them, latencies the worst slice. */
export function combine(slices) {
  if (slices.length === 1) return slices[0]
  const mean = (field) => slices.reduce((a, r) => a + r[field], 0) / slices.length
  const merged = { ...slices[0] }
  for (const field of ['rps', 'errorShare', 'jwksRps', 'loginsRps', 'p50Exact']) {
    if (field in merged) merged[field] = mean(field)
  }
  for (const field of ['p50', 'p99', 'jwksP99', 'p99Exact']) {
    if (field in merged) merged[field] = Math.max(...slices.map((r) => r[field]))
  }
  merged.non2xx = slices.reduce((a, r) => a + r.non2xx, 0)
  return merged
}
