// An Express service protected by Tollgate tokens: `createVerifier` from @tollgate/shared does every check (signature,
// issuer, audience, expiry, DPoP, revocation events); the middleware turns its errors into RFC 6750 answers.
//   ISSUER=http://localhost:3000 AUDIENCE=http://localhost:4000 PORT=4000 node examples/express/server.mjs
import {
  authContext,
  bearerErrorBody,
  challenges,
  createVerifier,
  InsufficientScopeError,
  TollgateTokenError,
} from '@tollgate/shared'
import express from 'express'

const issuer = process.env.ISSUER ?? 'http://localhost:3000'
const audience = process.env.AUDIENCE ?? 'http://localhost:4000'
const port = Number(process.env.PORT ?? 4000)

// One verifier per process: it caches the issuer's keys and verified tokens, and follows the revocation events.
const verifier = createVerifier({ issuer, audience, revocation: true })

/** Middleware: a valid access token for this audience carrying every scope given, or a 401/403 the RFC 6750 way. */
function requireScope(...scopes) {
  return async (req, res, next) => {
    try {
      const claims = await verifier.verifyRequest({
        authorization: req.headers.authorization,
        dpop: req.headers.dpop,
        method: req.method,
        // What a DPoP proof names (behind a TLS proxy: set `app.set('trust proxy', …)` so protocol and host are the public ones).
        url: `${req.protocol}://${req.get('host')}${req.path}`,
      })
      const auth = authContext(claims)
      if (!auth.hasScope(...scopes)) throw new InsufficientScopeError(scopes)
      req.auth = auth
      next()
    } catch (err) {
      if (!(err instanceof TollgateTokenError)) return next(err)
      const scheme = /^dpop /i.test(req.headers.authorization ?? '') ? 'DPoP' : 'Bearer'
      res
        .status(err.status)
        .set('www-authenticate', challenges(err, audience, verifier.dpopAlgorithms, scheme))
        .set('cache-control', 'no-store')
        .json(bearerErrorBody(err))
    }
  }
}

const app = express()
app.get('/stock', requireScope('inventory:read'), (req, res) => {
  res.json({ caller: req.auth.clientId, items: [{ sku: 'tea-01', count: 12 }] })
})
app.get('/me', requireScope(), (req, res) => res.json({ sub: req.auth.subject, scopes: [...req.auth.scopes] }))

const server = app.listen(port, process.env.HOST ?? '127.0.0.1', () => {
  process.stdout.write(`inventory (Express) on http://localhost:${port}, audience ${audience}, issuer ${issuer}\n`)
})
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)))
