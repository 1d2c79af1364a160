// Requests a service cannot understand, said in a person's words: schema validation failures, unusable bodies, bad
// URLs and malformed HTTP become one RFC 6749/6750-style answer (`invalid_request` + a description naming the
// parameter), never a validator's schema path or the framework's own error JSON.
import type { Socket } from 'node:net'

/** What to answer: the status, the OAuth `error` code and a description fit to show a person. */
export interface RequestErrorAnswer {
  readonly status: number
  readonly error: string
  readonly description: string
}

/** One Ajv error, as Fastify attaches them to a validation failure (`err.validation`). */
interface ValidationIssue {
  readonly keyword: string
  readonly instancePath: string
  readonly params: Record<string, unknown>
  readonly message?: string
}

/** The parts of a request a description may look at. */
export interface RequestView {
  readonly body?: unknown
  readonly query?: unknown
  readonly method?: string
  readonly headers?: Readonly<Record<string, string | string[] | undefined>>
  readonly routeOptions?: { readonly schema?: { readonly consumes?: readonly string[] } | undefined }
}

/** Control characters, bidirectional overrides and isolates, zero-width marks: never echoed back. */
const UNSAFE = /[\p{Cc}\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/gu

/**
 * Input echoed in an error description: unsafe characters replaced by `?`, cut to `max` characters (with `…`). A
 * description must never carry terminal escapes, line breaks or right-to-left overrides an attacker chose.
 *
 * @example
 * throw new InvalidScope(`scope "${echo(requested)}" is not allowed for this client`)
 */
export function echo(value: unknown, max = 64): string {
  const text = String(value).replace(UNSAFE, '?')
  const chars = [...text]
  return chars.length > max ? `${chars.slice(0, max).join('')}…` : text
}

const WHERE: Record<string, string> = {
  body: 'parameter',
  querystring: 'query parameter',
  params: 'path parameter',
  headers: 'header',
}

/** `/grant_type` → `grant_type`; `/resource/3` → `resource`. */
function nameOf(instancePath: string): string {
  const first = instancePath.split('/').filter(Boolean)[0]
  return first === undefined ? '' : echo(first.replace(/~1/g, '/').replace(/~0/g, '~'), 40)
}

/** The media types a route accepts, for "send …" advice. */
export function expectedTypes(request: RequestView | undefined): string {
  const consumes = request?.routeOptions?.schema?.consumes
  return consumes && consumes.length > 0 ? consumes.join(' or ') : 'application/json'
}

/**
 * A validation failure in words: which parameter is missing, repeated, too long or malformed.
 *
 * @example
 * describeValidation([{ keyword: 'required', instancePath: '', params: { missingProperty: 'grant_type' } }], 'body')
 * // '"grant_type" is required'
 */
export function describeValidation(
  issues: readonly ValidationIssue[],
  context: string | undefined,
  request?: RequestView,
): string {
  const issue = issues[0]
  if (!issue) return 'the request is invalid'
  const where = WHERE[context ?? 'body'] ?? 'parameter'
  const source = (context === 'querystring' ? request?.query : context === 'body' ? request?.body : undefined) as
    | Record<string, unknown>
    | undefined
  const name = nameOf(issue.instancePath)
  const subject = name ? `${where} "${name}"` : ''
  const p = issue.params
  switch (issue.keyword) {
    case 'required':
      return `${where} "${echo(p.missingProperty, 40)}" is required`
    case 'type':
      if (!name) {
        return context === 'body'
          ? `the request needs a body: send ${expectedTypes(request)}`
          : `the ${where}s are malformed`
      }
      if (Array.isArray(source?.[name.replace(/\?/g, '')])) return `${subject} must not be repeated`
      return `${subject} must be ${p.type === 'array' ? 'a list' : `a ${String(p.type)}`}`
    case 'maxLength':
      return `${subject} is too long (at most ${String(p.limit)} characters)`
    case 'minLength':
      return Number(p.limit) <= 1 ? `${subject} must not be empty` : `${subject} is too short`
    case 'maxItems':
      return `too many values of ${subject} (at most ${String(p.limit)})`
    case 'maxProperties':
      return `too many ${where}s (at most ${String(p.limit)})`
    case 'additionalProperties':
      return `unknown ${where} "${echo(p.additionalProperty, 40)}"`
    case 'enum':
      return `${subject} must be one of: ${((p.allowedValues as unknown[]) ?? []).map((v) => echo(v, 40)).join(', ')}`
    case 'const':
      return `${subject} must be ${echo(p.allowedValue, 40)}`
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `${subject} is out of range`
    default:
      return name ? `${subject} is malformed` : 'the request is malformed'
  }
}

/** Fastify's errors for requests it could not use, each in words. */
const FRAMEWORK: Record<string, (request: RequestView | undefined, err: { message?: string }) => [number, string]> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: (r) => [415, `unsupported content type: send ${expectedTypes(r)}`],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => [400, 'the Content-Length header does not match the body'],
  FST_ERR_CTP_EMPTY_JSON_BODY: () => [400, 'the JSON body is empty'],
  FST_ERR_CTP_INVALID_JSON_BODY: () => [400, 'the body is not valid JSON'],
  FST_ERR_CTP_BODY_TOO_LARGE: () => [413, 'the request body is too large'],
  FST_ERR_CTP_EMPTY_TYPE: () => [415, 'the Content-Type header is empty'],
  FST_ERR_CTP_INVALID_TYPE: () => [415, 'the Content-Type header is malformed'],
  FST_ERR_BAD_URL: () => [400, 'the request URL is malformed (bad percent-encoding)'],
  FST_ERR_ASYNC_CONSTRAINT: () => [400, 'the request cannot be routed'],
  FST_ERR_BAD_STATUS_CODE: () => [400, 'the request is malformed'],
}

/**
 * The answer for an error Fastify (or its schema validation) raised about the request; `undefined` when the error is
 * not about the request (a bug, a dependency): the caller's own handling decides.
 *
 * @example
 * const answer = requestErrorAnswer(err, request)
 * if (answer) return reply.code(answer.status).send({ error: answer.error, error_description: answer.description })
 */
export function requestErrorAnswer(err: unknown, request?: RequestView): RequestErrorAnswer | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  const e = err as {
    validation?: ValidationIssue[]
    validationContext?: string
    code?: string
    statusCode?: number
    status?: number
    message?: string
    name?: string
  }
  if (Array.isArray(e.validation)) {
    return {
      status: 400,
      error: 'invalid_request',
      description: describeValidation(e.validation, e.validationContext, request),
    }
  }
  const known = e.code === undefined ? undefined : FRAMEWORK[e.code]
  if (known) {
    const [status, description] = known(request, e)
    return { status, error: 'invalid_request', description }
  }
  const status = e.statusCode ?? e.status
  // A JSON body that does not parse (the parser's own SyntaxError, marked 400 by Fastify).
  if (status === 400 && e.name === 'SyntaxError') {
    return { status: 400, error: 'invalid_request', description: 'the body is not valid JSON' }
  }
  if (typeof status === 'number' && status >= 400 && status < 500 && e.code?.startsWith('FST_')) {
    return { status, error: 'invalid_request', description: 'the request is malformed' }
  }
  return undefined
}

/** The OAuth JSON body of an answer. */
export const answerBody = (answer: RequestErrorAnswer) => ({
  error: answer.error,
  error_description: answer.description,
})

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  431: 'Request Header Fields Too Large',
}

/**
 * Fastify's `clientErrorHandler`: malformed HTTP (a request line or headers Node cannot parse, headers too large,
 * a timeout) answered in the same JSON format as every other error — and without a body to a HEAD request.
 *
 * @example
 * Fastify({ clientErrorHandler })
 */
export function clientErrorHandler(err: Error, socket: Socket): void {
  const { code, rawPacket } = err as { code?: string; rawPacket?: unknown }
  if (!socket.writable) {
    socket.destroy()
    return
  }
  const status =
    code === 'HPE_HEADER_OVERFLOW'
      ? 431
      : code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 408
        : code === 'HPE_URI_TOO_LONG'
          ? 414
          : 400
  const description =
    status === 431
      ? 'the request headers are too large'
      : status === 408
        ? 'the request took too long to arrive'
        : status === 414
          ? 'the request URL is too long'
          : 'the request is not valid HTTP'
  const head = Buffer.isBuffer(rawPacket) ? rawPacket.subarray(0, 8).toString('latin1') : ''
  const body = /^HEAD /i.test(head)
    ? ''
    : JSON.stringify({
        error: status === 408 ? 'temporarily_unavailable' : 'invalid_request',
        error_description: description,
      })
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Bad Request'}\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\ncache-control: no-store\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  )
}

/** A strict `application/x-www-form-urlencoded` check: every `%` starts a `%XX` escape (RFC 3986 §2.1). */
export function hasMalformedEscape(text: string): boolean {
  return /%(?![0-9A-Fa-f]{2})/.test(text)
}

/**
 * Fastify's `frameworkErrors` option: a URL the router cannot decode (`/%zz`) answered in the one JSON error format
 * instead of Fastify's own. (It runs before any route, outside the app's error handler.)
 *
 * @example
 * Fastify({ frameworkErrors, clientErrorHandler })
 */
export function frameworkErrors(
  error: unknown,
  request: RequestView,
  reply: { code(status: number): { header(name: string, value: string): { send(body: unknown): unknown } } },
): void {
  const answer = requestErrorAnswer(error, request) ?? {
    status: 400,
    error: 'invalid_request',
    description: 'the request is malformed',
  }
  reply.code(answer.status).header('cache-control', 'no-store').send(answerBody(answer))
}
