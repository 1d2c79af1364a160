// What several pages show the same way: key states, audit events, an actor or a target, a section that loads on its
// own (its failure stays inside it).
import type { AuditEvent, Key } from '../api.js'
import { page } from '../settings.js'
import { type Child, fill, h, time } from '../ui/dom.js'
import { alertBox, describe } from '../ui/feedback.js'

/** Key states in an operator's words (the API's `pending`, `active`, `verifying`, `retired`). */
export const KEY_STATES: Record<string, { label: string; note: (k: Key) => Child }> = {
  pending: { label: 'Next', note: (k) => ['published; signs from ', time(k.activates_at)] },
  active: { label: 'Active', note: () => 'signs new tokens' },
  verifying: { label: 'Retiring', note: (k) => ['verifies tokens it signed until ', time(k.retires_at)] },
  retired: { label: 'Retired', note: () => 'no longer published' },
}

export function keyState(k: Key): HTMLElement {
  const state = KEY_STATES[k.state]
  return h('span', { class: `pill state-${k.state}` }, state?.label ?? k.state)
}

/** Security events: what an operator looks at first. */
export const SECURITY_EVENTS = [
  'user.sign_in_failed',
  'user.locked_out',
  'address.locked_out',
  'refresh_token.reused',
  'authorization_code.reused',
  'client.registration_refused',
  'key.rotated',
  'client.secret_rotated',
  'user.disabled',
]

/** The audit event types the server records (docs/administration.md), for the filter's suggestions. */
export const EVENT_TYPES = [
  'user.signed_in',
  'user.sign_in_failed',
  'user.locked_out',
  'address.locked_out',
  'refresh_token.reused',
  'authorization_code.reused',
  'session.revoked',
  'access_token.revoked',
  'user.tokens_revoked',
  'client.tokens_revoked',
  'key.rotated',
  'client.created',
  'client.registered',
  'client.updated',
  'client.secret_rotated',
  'client.deleted',
  'client.registration_refused',
  'user.created',
  'user.updated',
  'user.disabled',
  'user.enabled',
  'user.password_changed',
  'user.deleted',
  'initial_access_token.created',
  'initial_access_token.revoked',
]

export function actorOf(e: AuditEvent): Child {
  const { actor } = e
  const who = actor.name ?? actor.id ?? ''
  const base: Child =
    actor.type === 'user' && actor.id ? h('a', { href: page(`users/${encodeURIComponent(actor.id)}`) }, who) : who
  return [
    h('span', { class: 'muted' }, actor.type),
    who ? ' ' : null,
    base,
    actor.client_id ? h('span', { class: 'muted' }, ` via ${actor.client_id}`) : null,
  ]
}

export function targetOf(e: AuditEvent): Child {
  const { target } = e
  if (!target) return '—'
  const label = target.name ?? target.id
  const href =
    target.type === 'client'
      ? page(`clients/${encodeURIComponent(target.id)}`)
      : target.type === 'user'
        ? page(`users/${encodeURIComponent(target.id)}`)
        : undefined
  return [h('span', { class: 'muted' }, `${target.type} `), href ? h('a', { href }, label) : label]
}

export function detailsOf(e: AuditEvent): Child {
  const entries = Object.entries(e.details ?? {})
  if (entries.length === 0) return '—'
  return h(
    'dl',
    { class: 'details' },
    entries.map(([k, v]) => [h('dt', null, k), h('dd', null, Array.isArray(v) ? v.join(', ') : String(v))]),
  )
}

/** One event as a table row: time, type (and outcome), actor, target, details. */
export function eventRow(e: AuditEvent): Child[] {
  return [
    time(e.time),
    h(
      'span',
      null,
      h('span', { class: 'mono event-type' }, e.type),
      e.outcome === 'failure' ? h('span', { class: 'pill danger' }, 'failed') : null,
    ),
    actorOf(e),
    targetOf(e),
    [detailsOf(e), e.source_ip ? h('span', { class: 'muted small block' }, `from ${e.source_ip}`) : null],
  ]
}
export const EVENT_COLUMNS = ['Time', 'Event', 'Actor', 'Target', 'Details']

/** A titled section that loads by itself: a failure shows inside it, not over the whole page. */
export async function section(
  parent: HTMLElement,
  title: string,
  load: () => Promise<Child>,
  options: { id?: string; actions?: Child } = {},
): Promise<HTMLElement> {
  const id = options.id ?? `section-${title.toLowerCase().replace(/\W+/g, '-')}`
  const body = h('div', { class: 'section-body', 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading…'))
  const el = h(
    'section',
    { class: 'card', 'aria-labelledby': `${id}-title`, id },
    h('div', { class: 'section-head' }, h('h2', { id: `${id}-title` }, title), options.actions ?? null),
    body,
  )
  parent.append(el)
  try {
    fill(body, await load())
  } catch (err) {
    body.replaceChildren(alertBox(describe(err)))
    if ((err as Error).name === 'SignedOut') throw err
  } finally {
    body.removeAttribute('aria-busy')
  }
  return el
}
