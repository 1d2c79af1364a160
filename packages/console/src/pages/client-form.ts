// The client editor, built from fields rather than by hand: the fields the admin API returns for a client, the ones
// its OpenAPI document describes, and known ones with words for people. A field added to client definitions on the
// server shows up here with an editor fitting its type, without a change to the console.
import { endpoint } from '../settings.js'
import { type Child, h, uid } from '../ui/dom.js'

type Kind = 'text' | 'url' | 'list' | 'bool' | 'grants' | 'select' | 'json' | 'identities' | 'exchange'

export interface Field {
  readonly name: string
  readonly kind: Kind
  readonly label: string
  readonly help?: string
  readonly options?: readonly string[]
  /** Only when creating (the id), or never editable. */
  readonly createOnly?: boolean
}

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange'
const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code'
export const GRANTS: Record<string, string> = {
  authorization_code: 'Authorization code (with PKCE)',
  refresh_token: 'Refresh token',
  client_credentials: 'Client credentials (service to service)',
  password: 'Password (first-party apps only)',
  [TOKEN_EXCHANGE]: 'Token exchange (RFC 8693)',
  [DEVICE_CODE]: 'Device authorization (RFC 8628)',
}

/** Known fields, in the order people read them; anything else the server has follows, by its type. */
const KNOWN: readonly Field[] = [
  {
    name: 'client_id',
    kind: 'text',
    label: 'Client ID',
    help: 'Letters, digits and . _ ~ : - (at most 128). Left empty, one is generated.',
    createOnly: true,
  },
  { name: 'name', kind: 'text', label: 'Name', help: 'Shown on the sign-in page.' },
  {
    name: 'public',
    kind: 'bool',
    label: 'Public client (no secret)',
    help: 'A browser or native app that cannot keep a secret. A confidential client (a service) gets a generated secret, shown once.',
  },
  { name: 'grant_types', kind: 'grants', label: 'Grant types' },
  { name: 'scopes', kind: 'list', label: 'Scopes', help: 'One per line (or separated by spaces).' },
  {
    name: 'audiences',
    kind: 'list',
    label: 'Audiences',
    help: 'The APIs it gets tokens for, as absolute URIs, one per line; the first is the default aud.',
  },
  { name: 'redirect_uris', kind: 'list', label: 'Redirect URIs', help: 'Exact URIs, one per line (code flow).' },
  {
    name: 'post_logout_redirect_uris',
    kind: 'list',
    label: 'Post-logout redirect URIs',
    help: 'Where sign-out may send the browser afterwards, one per line.',
  },
  {
    name: 'allowed_origins',
    kind: 'list',
    label: 'Allowed origins',
    help: 'Web origins (scheme://host[:port]) that may call the browser endpoints, one per line.',
  },
  {
    name: 'dpop_bound_access_tokens',
    kind: 'bool',
    label: 'Require DPoP',
    help: 'Every token request must carry a DPoP proof (RFC 9449 §5.2).',
  },
  {
    name: 'require_pushed_authorization_requests',
    kind: 'bool',
    label: 'Require pushed authorization requests',
    help: 'Authorization requests only through the PAR endpoint (RFC 9126).',
  },
  {
    name: 'token_exchange',
    kind: 'exchange',
    label: 'Token exchange',
    help: 'With the token-exchange grant: tokens addressed to its own API may be exchanged for tokens addressed to the services it calls.',
  },
  {
    name: 'token_endpoint_auth_method',
    kind: 'select',
    label: 'Authentication method',
    help: 'How it must authenticate at the token endpoint; by default any way it has credentials for.',
    options: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
  },
  {
    name: 'jwks',
    kind: 'json',
    label: 'Public keys (JWK Set)',
    help: 'For private_key_jwt: {"keys": [ … ]}, public keys only.',
  },
  {
    name: 'jwks_uri',
    kind: 'url',
    label: 'Public keys URL (jwks_uri)',
    help: 'For private_key_jwt: where its JWK Set is published (https).',
  },
  {
    name: 'federated_identities',
    kind: 'identities',
    label: 'Federated identities',
    help: 'Platform identities that are this client: a trusted issuer and the subject its tokens name (e.g. system:serviceaccount:shop:orders).',
  },
  {
    name: 'id_token_signed_response_alg',
    kind: 'text',
    label: 'ID token algorithm',
    help: 'The alg of its ID tokens (default RS256); one the server signs with.',
  },
]
/** Shown by the API, never set by a definition. */
export const READ_ONLY = new Set(['dynamically_registered', 'created_at', 'updated_at', 'client_secret'])

interface SchemaProperty {
  type?: string | string[]
  items?: { type?: string }
  enum?: string[]
  description?: string
}

let described: Promise<Record<string, SchemaProperty>> | undefined
/** The client fields the server's OpenAPI document describes (what a definition may carry). */
export function describedFields(): Promise<Record<string, SchemaProperty>> {
  described ??= fetch(endpoint('/docs/json'), { signal: AbortSignal.timeout(5_000) })
    .then((res) => (res.ok ? res.json() : {}))
    .then((doc: { paths?: Record<string, Record<string, unknown>> }) => {
      const post = doc.paths?.['/admin/v1/clients']?.post as
        | { requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, SchemaProperty> } }> } }
        | undefined
      return post?.requestBody?.content?.['application/json']?.schema?.properties ?? {}
    })
    .catch(() => ({}))
  return described
}

const humanize = (name: string) => (name.charAt(0).toUpperCase() + name.slice(1)).replace(/_/g, ' ')

function kindOf(value: unknown, schema?: SchemaProperty): Kind {
  const type = Array.isArray(schema?.type) ? schema?.type[0] : schema?.type
  if (schema?.enum) return 'select'
  if (type === 'boolean' || typeof value === 'boolean') return 'bool'
  if (
    (type === 'array' && schema?.items?.type === 'string') ||
    (Array.isArray(value) && value.every((v) => typeof v === 'string'))
  )
    return 'list'
  if (type === 'string' || typeof value === 'string') return 'text'
  return 'json'
}

/** The fields to edit: the known ones, then any other the server describes or the client has. */
export function fieldsFor(client: Record<string, unknown>, schema: Record<string, SchemaProperty>): Field[] {
  const known = new Set(KNOWN.map((f) => f.name))
  const extra = [...new Set([...Object.keys(schema), ...Object.keys(client)])]
    .filter((name) => !known.has(name) && !READ_ONLY.has(name))
    .sort()
    .map(
      (name): Field => ({
        name,
        kind: kindOf(client[name], schema[name]),
        label: humanize(name),
        ...(schema[name]?.description ? { help: schema[name]?.description } : {}),
        ...(schema[name]?.enum ? { options: schema[name]?.enum } : {}),
      }),
    )
  return [...KNOWN, ...extra]
}

const lines = (value: unknown) => (Array.isArray(value) ? value.join('\n') : '')
const split = (text: string) =>
  text
    .split(/\s+/)
    .map((s) => s.trim())
    .filter(Boolean)

/** A field's editor: reads its value (undefined when empty), shows an error under it. */
interface Editor {
  readonly field: Field
  readonly el: HTMLElement
  /** The element to focus for an error. */
  readonly focus: HTMLElement
  read(): unknown
  error(message: string | null): void
}

function editor(field: Field, value: unknown, mode: 'create' | 'edit'): Editor {
  const id = uid(`f-${field.name}`)
  const helpId = `${id}-help`
  const errorId = `${id}-error`
  const errorEl = h('p', { id: errorId, class: 'field-error', hidden: true })
  const help = field.help ? h('p', { id: helpId, class: 'help' }, field.help) : null
  const describedBy = [field.help ? helpId : null, errorId].filter(Boolean).join(' ')
  const wrap = (control: Child, labelled = true) =>
    h(
      'div',
      { class: `field field-${field.kind}`, dataset: { field: field.name } },
      labelled ? h('label', { for: id }, field.label) : null,
      control,
      help,
      errorEl,
    )
  let focus: HTMLElement
  let read: () => unknown
  let el: HTMLElement
  const invalid = (target: HTMLElement, message: string | null) => {
    errorEl.hidden = message === null
    errorEl.textContent = message ?? ''
    if (message === null) target.removeAttribute('aria-invalid')
    else target.setAttribute('aria-invalid', 'true')
  }

  switch (field.kind) {
    case 'bool': {
      const input = h('input', { type: 'checkbox', id, checked: value === true, 'aria-describedby': describedBy })
      el = h(
        'div',
        { class: 'field field-bool', dataset: { field: field.name } },
        h('div', { class: 'check' }, input, h('label', { for: id }, field.label)),
        help,
        errorEl,
      )
      focus = input
      read = () => input.checked
      break
    }
    case 'list': {
      const input = h('textarea', {
        id,
        rows: 3,
        spellcheck: 'false',
        autocapitalize: 'none',
        'aria-describedby': describedBy,
      })
      input.value = lines(value)
      el = wrap(input)
      focus = input
      read = () => {
        const items = split(input.value)
        return items.length ? items : undefined
      }
      break
    }
    case 'json': {
      const input = h('textarea', { id, rows: 4, spellcheck: 'false', class: 'mono', 'aria-describedby': describedBy })
      input.value = value === undefined ? '' : JSON.stringify(value, null, 2)
      el = wrap(input)
      focus = input
      read = () => {
        if (!input.value.trim()) return undefined
        try {
          return JSON.parse(input.value) as unknown
        } catch (err) {
          throw new FieldError(field.name, `${field.label}: not valid JSON (${(err as Error).message})`)
        }
      }
      break
    }
    case 'select': {
      const options = [...new Set([...(field.options ?? []), ...(typeof value === 'string' ? [value] : [])])]
      const input = h(
        'select',
        { id, 'aria-describedby': describedBy },
        h('option', { value: '' }, '(default)'),
        options.map((o) => h('option', { value: o }, o)),
      )
      input.value = typeof value === 'string' ? value : ''
      el = wrap(input)
      focus = input
      read = () => input.value || undefined
      break
    }
    case 'grants': {
      const given = Array.isArray(value) ? (value as string[]) : []
      const all = [...new Set([...Object.keys(GRANTS), ...given])]
      const boxes = all.map((g) => {
        const box = h('input', {
          type: 'checkbox',
          id: `${id}-${g.replace(/\W/g, '-')}`,
          value: g,
          checked: given.includes(g),
        })
        return { g, box, el: h('div', { class: 'check' }, box, h('label', { for: box.id }, GRANTS[g] ?? g)) }
      })
      el = h(
        'fieldset',
        { class: 'field field-grants', dataset: { field: field.name }, 'aria-describedby': errorId },
        h('legend', null, field.label),
        h(
          'div',
          { class: 'checks' },
          boxes.map((b) => b.el),
        ),
        errorEl,
      )
      focus = boxes[0]?.box ?? el
      read = () => {
        const picked = boxes.filter((b) => b.box.checked).map((b) => b.g)
        return picked.length ? picked : undefined
      }
      break
    }
    case 'exchange': {
      const policy = (value ?? {}) as { subject_audiences?: string[]; audiences?: string[] }
      const subject = h('textarea', { id, rows: 2, spellcheck: 'false', 'aria-describedby': describedBy })
      subject.value = lines(policy.subject_audiences)
      const targets = h('textarea', { id: `${id}-aud`, rows: 2, spellcheck: 'false', 'aria-describedby': describedBy })
      targets.value = lines(policy.audiences)
      el = h(
        'fieldset',
        { class: 'field field-exchange', dataset: { field: field.name } },
        h('legend', null, field.label),
        help,
        h('label', { for: id }, 'Subject audiences (its own API)'),
        subject,
        h('label', { for: targets.id }, 'Audiences it may exchange for'),
        targets,
        errorEl,
      )
      focus = subject
      read = () => {
        const a = split(subject.value)
        const b = split(targets.value)
        return a.length || b.length ? { subject_audiences: a, audiences: b } : undefined
      }
      break
    }
    case 'identities': {
      const rows = h('div', { class: 'rows' })
      const entries: { issuer: HTMLInputElement; subject: HTMLInputElement; row: HTMLElement }[] = []
      const addRow = (issuer = '', subject = '', focusIt = false) => {
        const n = uid('identity')
        const iss = h('input', { id: `${n}-iss`, value: issuer, spellcheck: 'false', autocapitalize: 'none' })
        const sub = h('input', { id: `${n}-sub`, value: subject, spellcheck: 'false', autocapitalize: 'none' })
        const entry = { issuer: iss, subject: sub, row: h('div') }
        entry.row = h(
          'div',
          { class: 'row' },
          h('div', null, h('label', { for: iss.id }, 'Issuer'), iss),
          h('div', null, h('label', { for: sub.id }, 'Subject'), sub),
          h(
            'button',
            {
              type: 'button',
              class: 'secondary small',
              'aria-label': `Remove identity ${entries.length + 1}`,
              onclick: () => {
                entries.splice(entries.indexOf(entry), 1)
                entry.row.remove()
                addButton.focus()
              },
            },
            'Remove',
          ),
        )
        entries.push(entry)
        rows.append(entry.row)
        if (focusIt) iss.focus()
      }
      const addButton = h(
        'button',
        { type: 'button', class: 'secondary small', onclick: () => addRow('', '', true) },
        'Add an identity',
      )
      for (const i of (Array.isArray(value) ? value : []) as { issuer?: string; subject?: string }[]) {
        addRow(i.issuer ?? '', i.subject ?? '')
      }
      el = h(
        'fieldset',
        { class: 'field field-identities', dataset: { field: field.name }, 'aria-describedby': describedBy },
        h('legend', null, field.label),
        help,
        rows,
        addButton,
        errorEl,
      )
      focus = addButton
      read = () => {
        const list = entries
          .map((e) => ({ issuer: e.issuer.value.trim(), subject: e.subject.value.trim() }))
          .filter((e) => e.issuer || e.subject)
        return list.length ? list : undefined
      }
      break
    }
    default: {
      const input = h('input', {
        id,
        type: field.kind === 'url' ? 'url' : 'text',
        value: typeof value === 'string' ? value : '',
        spellcheck: 'false',
        autocapitalize: 'none',
        autocomplete: 'off',
        'aria-describedby': describedBy,
        ...(field.createOnly && mode === 'edit' ? { readonly: true } : {}),
      })
      el = wrap(input)
      focus = input
      read = () => input.value.trim() || undefined
    }
  }
  return { field, el, focus, read, error: (message) => invalid(focus, message) }
}

/** A mistake found before anything is sent (JSON that does not parse). */
export class FieldError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message)
  }
}

export interface ClientForm {
  readonly el: HTMLElement
  /** The definition the form holds (fields left empty are absent). Throws FieldError. */
  read(): Record<string, unknown>
  /** Shows the API's message under the field it names (the longest field name found in it); false if none. */
  showError(message: string): boolean
  clearErrors(): void
}

/** The editor for a client (`create`: every field; `edit`: all but the id). */
export function clientForm(
  client: Record<string, unknown>,
  schema: Record<string, SchemaProperty>,
  mode: 'create' | 'edit',
): ClientForm {
  const editors = fieldsFor(client, schema)
    .filter((f) => mode === 'create' || !f.createOnly)
    .map((f) => editor(f, client[f.name], mode))
  const byLength = [...editors].sort((a, b) => b.field.name.length - a.field.name.length)
  return {
    el: h(
      'div',
      { class: 'fields' },
      editors.map((e) => e.el),
    ),
    read() {
      const out: Record<string, unknown> = {}
      for (const e of editors) {
        try {
          const value = e.read()
          if (
            value !== undefined &&
            !(e.field.kind === 'bool' && value === false && client[e.field.name] === undefined)
          )
            out[e.field.name] = value
        } catch (err) {
          if (err instanceof FieldError) {
            e.error(err.message)
            e.focus.focus()
          }
          throw err
        }
      }
      return out
    },
    showError(message) {
      const found = byLength.find((e) => new RegExp(`(^|[^a-z_])${e.field.name}([^a-z_]|$)`).test(message))
      if (!found) return false
      found.error(message)
      found.focus.focus()
      return true
    },
    clearErrors() {
      for (const e of editors) e.error(null)
    },
  }
}

/**
 * The RFC 7396 merge patch from `before` to `after`: changed fields with their new value, emptied ones `null` (back
 * to the default).
 */
export function mergePatch(before: Record<string, unknown>, after: Record<string, unknown>): Record<string, unknown> {
  const patch: Record<string, unknown> = {}
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)
  for (const [name, value] of Object.entries(after)) if (!same(before[name], value)) patch[name] = value
  for (const name of Object.keys(before)) {
    if (READ_ONLY.has(name) || name === 'client_id' || name in after) continue
    const old = before[name]
    // An empty list or `false` is the default already: nothing to reset.
    if ((Array.isArray(old) && old.length === 0) || old === false) continue
    patch[name] = null
  }
  return patch
}
