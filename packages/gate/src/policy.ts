// The gate's policy (SPEC "Any service, any language: the gate"): what a request needs — audience, scopes, DPoP — or
// that it is public, from the auth URL's parameters or from GATE_POLICY rules matched by host, path and method.
// Like Ory Oathkeeper's and heimdall's rules, reduced to what Tollgate checks, and validated before the gate starts.
import { echo } from '@tollgate/shared/service'

/** What the gate requires of one request. */
export interface Requirement {
  /** The `aud` the token must carry. */
  readonly audience: string
  /** Scopes the token must all carry. */
  readonly scopes: readonly string[]
  /** Only a DPoP-bound token with a proof will do. */
  readonly dpop: boolean
  /** No token needed: the request passes with empty identity headers. */
  readonly public: boolean
}

export interface Rule {
  /** The rule's position in the file, for messages. */
  readonly index: number
  readonly path: string
  /** The path's non-empty segments: a rule covers the requests whose path starts with these segments. */
  readonly segments: readonly string[]
  /** The segments in lower case, for the case-folded reading of a request path. */
  readonly folded: readonly string[]
  /** Lower-case `host` or `host:port`. */
  readonly host: string | undefined
  readonly methods: ReadonlySet<string> | undefined
  readonly requirement: Requirement
}

export interface Policy {
  /** Most specific first: longer paths, then rules with host or methods, then file order. */
  readonly rules: readonly Rule[]
  /** The requirement when no rule matches (and no parameters were given): `AUDIENCE`, any scope. */
  readonly fallback: Requirement
  /** Every audience the rules and the fallback name. */
  readonly audiences: ReadonlySet<string>
  /** Every scope the rules ask for. */
  readonly scopes: readonly string[]
  /** Some rule's path has upper-case letters: every request path is also read case-folded. */
  readonly upperCaseRules: boolean
}

/** A policy file or parameter that cannot be used; the message names what is wrong in one line. */
export class PolicyError extends Error {}

const RULE_FIELDS = ['path', 'host', 'methods', 'audience', 'scopes', 'dpop', 'public'] as const
const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
/** RFC 6749 §3.3 scope-token. */
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]+$/
const HOST = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?$/

/** The closest known field to a misspelt one, for the error message. */
function suggestion(field: string): string {
  const lower = field.toLowerCase()
  const near = RULE_FIELDS.find((known) => lower.startsWith(known.slice(0, 4)) || known.startsWith(lower.slice(0, 4)))
  return near ? ` (did you mean "${near}"?)` : ''
}

const describeValue = (value: unknown) => JSON.stringify(value)?.slice(0, 60) ?? String(value)

/** Splits a path into its non-empty segments. */
export const segmentsOf = (path: string): string[] => path.split('/').filter((s) => s !== '')

/** Lower case, without a trailing dot: how hosts are compared. */
export function normalizeHost(host: string): string {
  const lower = host.toLowerCase()
  const colon = lower.lastIndexOf(':')
  const bare = colon > lower.lastIndexOf(']') ? lower.slice(0, colon) : lower
  const port = bare === lower ? '' : lower.slice(colon)
  return (bare.endsWith('.') ? bare.slice(0, -1) : bare) + port
}

/** `host` without its port (IPv6 literals keep their brackets). */
export function hostWithoutPort(host: string): string {
  const colon = host.lastIndexOf(':')
  return colon > host.lastIndexOf(']') ? host.slice(0, colon) : host
}

function scopesOf(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || value.some((s) => typeof s !== 'string' || !SCOPE.test(s))) {
    throw new PolicyError(`${where}.scopes: must be a list of scope names, e.g. ["orders:read"]`)
  }
  return [...new Set(value as string[])]
}

function ruleOf(value: unknown, index: number, fallbackAudience: string, dpopAvailable: boolean): Rule {
  const where = `rules[${index}]`
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new PolicyError(`${where}: must be an object with a "path"`)
  }
  const raw = value as Record<string, unknown>
  for (const field of Object.keys(raw)) {
    if (!(RULE_FIELDS as readonly string[]).includes(field)) {
      throw new PolicyError(`${where}: unknown field "${field}"${suggestion(field)}`)
    }
  }
  const { path, host, methods, audience, scopes, dpop } = raw
  if (typeof path !== 'string' || !path.startsWith('/') || /[?#\s]/.test(path)) {
    throw new PolicyError(`${where}.path: must be a path starting with "/" (no query), got ${describeValue(path)}`)
  }
  const segments = segmentsOf(path)
  if (segments.some((s) => s === '.' || s === '..')) {
    throw new PolicyError(`${where}.path: must not contain "." or ".." segments`)
  }
  const at = `${where} (path "${path}")`
  let normalizedHost: string | undefined
  if (host !== undefined) {
    if (typeof host !== 'string' || !HOST.test(host.toLowerCase())) {
      throw new PolicyError(`${at}.host: must be a host name with an optional port, e.g. "orders.internal"`)
    }
    normalizedHost = normalizeHost(host)
  }
  let methodSet: Set<string> | undefined
  if (methods !== undefined) {
    if (
      !Array.isArray(methods) ||
      methods.length === 0 ||
      methods.some((m) => typeof m !== 'string' || !METHOD.test(m) || m !== m.toUpperCase())
    ) {
      throw new PolicyError(`${at}.methods: must be a non-empty list of upper-case HTTP methods, e.g. ["GET", "POST"]`)
    }
    methodSet = new Set(methods as string[])
    // A HEAD is a GET without the body: a rule for GET covers it, as every router does.
    if (methodSet.has('GET')) methodSet.add('HEAD')
  }
  if (raw.public !== undefined) {
    if (raw.public !== true) throw new PolicyError(`${at}.public: must be true (leave it out otherwise)`)
    if (audience !== undefined || scopes !== undefined || dpop !== undefined) {
      throw new PolicyError(`${at}: a public rule takes no "audience", "scopes" or "dpop"`)
    }
  }
  if (audience !== undefined && (typeof audience !== 'string' || audience.trim() === '')) {
    throw new PolicyError(`${at}.audience: must be a non-empty string`)
  }
  if (dpop !== undefined) {
    if (dpop !== 'required') throw new PolicyError(`${at}.dpop: must be "required" (leave it out otherwise)`)
    if (!dpopAvailable) throw new PolicyError(`${at}.dpop: "required", but DPoP is off (DPOP=off)`)
  }
  return {
    index,
    path,
    segments,
    folded: segments.map((s) => s.toLowerCase()),
    host: normalizedHost,
    methods: methodSet,
    requirement: {
      audience: (audience as string | undefined) ?? fallbackAudience,
      scopes: scopes === undefined ? [] : scopesOf(scopes, at),
      dpop: dpop === 'required',
      public: raw.public === true,
    },
  }
}

const specificity = (rule: Rule) => (rule.host === undefined ? 0 : 1) + (rule.methods === undefined ? 0 : 1)

/**
 * Validates a policy document (`{ "rules": [...] }`) and orders its rules for matching. Throws a
 * {@link PolicyError} naming the first problem: an unknown field, a value of the wrong kind, two rules for the same
 * requests.
 *
 * @example
 * const policy = parsePolicy(JSON.parse(text), { audience: 'https://orders.example', dpop: true })
 */
export function parsePolicy(doc: unknown, defaults: { audience: string; dpop: boolean }): Policy {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new PolicyError('must be a JSON object: { "rules": [ … ] }')
  }
  for (const field of Object.keys(doc)) {
    if (field !== 'rules') throw new PolicyError(`unknown field "${field}" (a policy has only "rules")`)
  }
  const rulesValue = (doc as { rules?: unknown }).rules
  if (!Array.isArray(rulesValue)) throw new PolicyError('"rules" must be a list of rules')
  const rules = rulesValue.map((value, index) => ruleOf(value, index, defaults.audience, defaults.dpop))
  const seen = new Map<string, number>()
  for (const rule of rules) {
    const key = JSON.stringify([rule.segments, rule.host ?? null, rule.methods ? [...rule.methods].sort() : null])
    const earlier = seen.get(key)
    if (earlier !== undefined) {
      throw new PolicyError(`rules[${rule.index}]: covers the same requests as rules[${earlier}] (path, host, methods)`)
    }
    seen.set(key, rule.index)
  }
  return policyOf(rules, defaults.audience)
}

/** The policy of no rules: every request needs a token for `audience`. */
export const defaultPolicy = (audience: string): Policy => policyOf([], audience)

function policyOf(rules: Rule[], audience: string): Policy {
  const ordered = [...rules].sort(
    (a, b) => b.segments.length - a.segments.length || specificity(b) - specificity(a) || a.index - b.index,
  )
  const audiences = new Set([audience])
  const scopes = new Set<string>()
  for (const rule of rules) {
    if (!rule.requirement.public) audiences.add(rule.requirement.audience)
    for (const scope of rule.requirement.scopes) scopes.add(scope)
  }
  return {
    rules: ordered,
    fallback: { audience, scopes: [], dpop: false, public: false },
    audiences,
    scopes: [...scopes].sort(),
    upperCaseRules: rules.some((rule) => rule.path !== rule.path.toLowerCase()),
  }
}

export interface RequestTarget {
  readonly method: string
  /** The original Host (with its port, if it had one). */
  readonly host: string
  /** The original path, as sent (percent-encoded, no query). */
  readonly path: string
}

/** How the path can be read: it has dot segments, malformed escapes, or several readings that match differently. */
export type Unmatchable = 'dot-segment' | 'malformed' | 'ambiguous'

const decode = (text: string): string | undefined => {
  try {
    return decodeURIComponent(text)
  } catch {
    return undefined
  }
}

/**
 * The ways an upstream may read a path: segment by segment with escapes decoded; decoded first, so that `%2F`
 * separates; without `;parameters` (Java servlet containers drop them); and case-folded (case-insensitive
 * servers). A policy must give the same answer for all of them, or a request could look public to the gate and
 * protected to the service.
 */
function readings(path: string): string[][] | Unmatchable {
  const bySegment: string[] = []
  for (const raw of segmentsOf(path)) {
    const segment = decode(raw)
    if (segment === undefined) return 'malformed'
    bySegment.push(segment)
  }
  const whole = decode(path)
  if (whole === undefined) return 'malformed'
  const decodedFirst = segmentsOf(whole.replaceAll('\\', '/'))
  const withoutParams = (segments: string[]) => segments.map((s) => s.split(';')[0] as string).filter((s) => s !== '')
  const all = [bySegment, decodedFirst, withoutParams(bySegment), withoutParams(decodedFirst)]
  if (all.some((segments) => segments.some((s) => s === '.' || s === '..'))) return 'dot-segment'
  return all
}

function matches(
  rule: Rule,
  segments: readonly string[],
  fold: boolean,
  method: string,
  host: string,
  bareHost: string,
): boolean {
  const own = fold ? rule.folded : rule.segments
  if (own.length > segments.length) return false
  for (let i = 0; i < own.length; i++) if (own[i] !== segments[i]) return false
  if (rule.methods !== undefined && !rule.methods.has(method)) return false
  if (rule.host !== undefined && rule.host !== host && rule.host !== bareHost) return false
  return true
}

/**
 * The requirement for a request: the most specific matching rule's (path segments as a prefix, element by element
 * like a Kubernetes `Prefix` path; host with or without its port; the method), else the fallback. A path that
 * could be read two ways that match differently (encoded separators, `;parameters`) or that has dot segments is
 * not matched at all: the caller refuses it.
 *
 * @example
 * const requirement = requirementFor(policy, { method: 'POST', host: 'orders.internal', path: '/orders/7' })
 */
export function requirementFor(policy: Policy, target: RequestTarget): Requirement | Unmatchable {
  if (policy.rules.length === 0) return policy.fallback
  // The common path (lower case, nothing encoded, no parameters, no dots, rules in lower case) has one reading.
  const plain = !policy.upperCaseRules && !/[%;\\A-Z]/.test(target.path) && !target.path.includes('/.')
  const views = plain ? [segmentsOf(target.path)] : readings(target.path)
  if (typeof views === 'string') return views
  const host = normalizeHost(target.host)
  const bareHost = hostWithoutPort(host)
  let chosen: Rule | undefined | null = null
  for (const fold of plain ? [false] : [false, true]) {
    for (const view of views) {
      const segments = fold ? view.map((s) => s.toLowerCase()) : view
      const rule = policy.rules.find((r) => matches(r, segments, fold, target.method, host, bareHost))
      if (chosen === null) chosen = rule
      else if (chosen !== rule) return 'ambiguous'
    }
  }
  return chosen?.requirement ?? policy.fallback
}

const PARAMETERS = new Set(['audience', 'scope', 'dpop'])

/**
 * The requirement the auth URL's query names (`/verify?scope=orders:read,orders:write&audience=…&dpop=required`),
 * or `undefined` when it names none. Scopes are space- or comma-separated. Throws a {@link PolicyError} for an
 * unknown or repeated parameter: a typo in a proxy's configuration must not silently open a location.
 *
 * @example
 * requirementOfQuery('scope=orders:read', 'https://orders.example') // { audience: 'https://orders.example', … }
 */
export function requirementOfQuery(query: string, fallbackAudience: string): Requirement | undefined {
  if (query === '') return undefined
  const params = new URLSearchParams(query)
  const seen = new Set<string>()
  for (const name of params.keys()) {
    if (!PARAMETERS.has(name)) {
      throw new PolicyError(
        `unknown parameter "${echo(name, 32)}" in the auth URL (a proxy that appends the client's query? Caddy: uri /verify?)`,
      )
    }
    if (seen.has(name)) throw new PolicyError(`parameter "${echo(name, 32)}" is repeated in the auth URL`)
    seen.add(name)
  }
  if (seen.size === 0) return undefined
  const audience = params.get('audience')
  if (audience !== null && audience.trim() === '') throw new PolicyError('parameter "audience" is empty')
  const scopes = (params.get('scope') ?? '').split(/[\s,]+/).filter((s) => s !== '')
  if (scopes.some((s) => !SCOPE.test(s))) throw new PolicyError('parameter "scope" holds an invalid scope name')
  const dpop = params.get('dpop')
  if (dpop !== null && dpop !== 'required') throw new PolicyError('parameter "dpop" must be "required"')
  return { audience: audience ?? fallbackAudience, scopes: [...new Set(scopes)], dpop: dpop !== null, public: false }
}
