// The overview: how many clients, users and live sessions there are, the signing keys and their states, and the
// latest security events — each section loading on its own.
import { type AuditEvent, type Client, call, collect, type Key, type Page, type Session, type User } from '../api.js'
import type { Route } from '../router.js'
import { page } from '../settings.js'
import { h, table, time } from '../ui/dom.js'
import { EVENT_COLUMNS, eventRow, KEY_STATES, keyState, SECURITY_EVENTS, section } from './common.js'

const count = (n: number, more: boolean) => `${n}${more ? '+' : ''}`

function stat(label: string, value: string, href: string, note?: string): HTMLElement {
  return h(
    'a',
    { class: 'stat', href },
    h('span', { class: 'stat-value' }, value),
    h('span', { class: 'stat-label' }, label),
    note ? h('span', { class: 'stat-note' }, note) : null,
  )
}

export const overviewRoute: Route = {
  path: '',
  section: '',
  title: 'Overview',
  async render(view) {
    const grid = h('div', { class: 'grid' })
    view.root.append(grid)
    await Promise.all([
      section(grid, 'At a glance', async () => {
        const [clients, users, sessions] = await Promise.all([
          collect<Client>('/clients'),
          collect<User>('/users'),
          collect<Session>('/sessions'),
        ])
        const confidential = clients.items.filter((c) => !c.public).length
        const disabled = users.items.filter((u) => u.disabled).length
        return h(
          'div',
          { class: 'stats', dataset: { testid: 'stats' } },
          stat(
            'clients',
            count(clients.items.length, clients.more),
            page('clients'),
            `${confidential} confidential, ${clients.items.length - confidential} public`,
          ),
          stat('users', count(users.items.length, users.more), page('users'), `${disabled} disabled`),
          stat(
            'live sessions',
            count(sessions.items.length, sessions.more),
            page('sessions'),
            `of ${new Set(sessions.items.map((s) => s.sub)).size} users`,
          ),
        )
      }),
      section(grid, 'Signing keys', async () => {
        const { body } = await call<Page<Key>>('GET', '/keys')
        const live = body.items.filter((k) => k.state !== 'retired')
        return [
          table(
            'Signing keys',
            ['Algorithm', 'Key', 'State', 'When'],
            live.map((k) => [
              k.alg,
              h('span', { class: 'mono' }, k.kid),
              keyState(k),
              KEY_STATES[k.state]?.note(k) ?? '',
            ]),
            { empty: 'No signing keys.', testid: 'overview-keys' },
          ),
          h('p', null, h('a', { href: page('keys') }, 'Manage signing keys')),
        ]
      }),
      section(grid, 'Recent security events', async () => {
        const { body } = await call<Page<AuditEvent>>('GET', '/audit-events', {
          query: { type: SECURITY_EVENTS.join(','), limit: 8 },
        })
        return [
          table('Recent security events', EVENT_COLUMNS, body.items.map(eventRow), {
            empty: 'No security events yet.',
            testid: 'overview-events',
          }),
          h('p', null, h('a', { href: page('audit') }, 'Open the audit log')),
        ]
      }),
    ])
    view.root.append(h('p', { class: 'muted small' }, 'Updated ', time(new Date().toISOString()), '.'))
  },
}
