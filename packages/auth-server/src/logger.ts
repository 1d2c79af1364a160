// Logger options shared by both entry points: JSON logs with request ids, credentials redacted wherever they could appear.
import type { FastifyServerOptions } from 'fastify'

/** Paths pino blanks out: headers that carry credentials, and any body or error field that could hold one. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  '*.password',
  '*.client_secret',
  '*.refresh_token',
  '*.access_token',
  '*.id_token',
  '*.code',
  '*.code_verifier',
  '*.client_assertion',
  '*.subject_token',
  '*.actor_token',
  '*.token',
  'body',
  'err.body',
]

export function loggerOptions(level: string): FastifyServerOptions['logger'] {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      req: (req: { method: string; url: string; id: string; ip?: string }) => ({
        method: req.method,
        // Query strings may carry codes and states; the path is enough to diagnose.
        url: req.url.split('?')[0],
        id: req.id,
        ip: req.ip,
      }),
    },
  }
}
