// Users: the list with filters, a new user (a generated password shown once), and one user's page — profile and
// roles (conditional on the version read), disable or enable, a new password, their sessions (end one or all), delete.
import { ApiError, call, enc, type Page, type Session, type User } from '../api.js'
import type { Route, View } from '../router.js'
import { page } from '../settings.js'
import { h, table, time, uid } from '../ui/dom.js'
import { alertBox, announce, confirm, describe, secretPanel, statusLine } from '../ui/feedback.js'

const split = (text: string) =>
  text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean)

function input(label: string, props: Record<string, string | boolean> = {}, help?: string) {
  const id = uid('u')
  const el = h('input', {
    id,
    autocomplete: 'off',
    spellcheck: 'false',
    ...props,
    ...(help ? { 'aria-describedby': `${id}-help` } : {}),
  })
  return {
    el,
    field: h(
      'div',
      { class: 'field' },
      h('label', { for: id }, label),
      el,
      help ? h('p', { id: `${id}-help`, class: 'help' }, help) : null,
    ),
  }
}

function checkbox(label: string, checked: boolean) {
  const id = uid('u')
  const el = h('input', { type: 'checkbox', id, checked })
  return { el, field: h('div', { class: 'field' }, h('div', { class: 'check' }, el, h('label', { for: id }, label))) }
}

const statusPill = (u: User) =>
  h('span', { class: `pill${u.disabled ? ' danger' : ''}` }, u.disabled ? 'disabled' : 'active')

async function list(view: View): Promise<void> {
  const q = input('Search by username, name or email', { type: 'search', name: 'q', value: view.query.get('q') ?? '' })
  const role = input('Role', { name: 'role', value: view.query.get('role') ?? '' })
  const stateId = uid('state')
  const state = h(
    'select',
    { id: stateId, name: 'disabled' },
    h('option', { value: '' }, 'any'),
    h('option', { value: 'false' }, 'active'),
    h('option', { value: 'true' }, 'disabled'),
  )
  state.value = view.query.get('disabled') ?? ''
  const results = h('div', { 'aria-live': 'polite' })
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Show more')
  let cursor: string | null = null
  const rows: User[] = []
  const load = async (reset: boolean) => {
    if (reset) {
      rows.length = 0
      cursor = null
    }
    const { body } = await call<Page<User>>('GET', '/users', {
      query: {
        q: q.el.value.trim(),
        role: role.el.value.trim(),
        disabled: state.value,
        limit: 50,
        cursor: cursor ?? undefined,
      },
      signal: view.signal,
    })
    rows.push(...body.items)
    cursor = body.next_cursor
    more.hidden = cursor === null
    results.replaceChildren(
      table(
        'Users',
        ['User', 'Email', 'Roles', 'Status', 'Created'],
        rows.map((u) => [
          h(
            'a',
            { href: page(`users/${enc(u.sub)}`) },
            u.username,
            u.name ? h('span', { class: 'muted block' }, u.name) : null,
          ),
          u.email ?? '—',
          u.roles.join(', ') || '—',
          statusPill(u),
          time(u.created_at),
        ]),
        { empty: 'No user matches.', testid: 'users' },
      ),
    )
  }
  more.addEventListener('click', () => void load(false).catch((err) => results.append(alertBox(describe(err)))))
  const form = h(
    'form',
    {
      role: 'search',
      class: 'toolbar',
      onsubmit: (event) => {
        event.preventDefault()
        void load(true).catch((err) => results.replaceChildren(alertBox(describe(err))))
      },
    },
    h('div', { class: 'grow' }, q.field),
    role.field,
    h('div', { class: 'field' }, h('label', { for: stateId }, 'Status'), state),
    h('button', { type: 'submit', class: 'secondary' }, 'Search'),
    h('a', { href: page('users/new'), class: 'button' }, 'New user'),
  )
  view.root.append(form, results, more)
  await load(true)
}

async function create(view: View): Promise<void> {
  const username = input('Username', { required: true, autocapitalize: 'none' })
  const name = input('Name')
  const email = input('Email', { type: 'email' })
  const roles = input(
    'Roles',
    {},
    'Separated by spaces or commas; "admin" makes an administrator (the console and the admin API).',
  )
  const password = input(
    'Password',
    { type: 'password', autocomplete: 'new-password' },
    'Left empty, a strong one is generated and shown once.',
  )
  const problem = h('div', { tabindex: '-1' })
  const status = statusLine()
  view.root.append(
    h(
      'form',
      {
        class: 'card editor',
        novalidate: true,
        onsubmit: async (event) => {
          event.preventDefault()
          problem.replaceChildren()
          const body: Record<string, unknown> = { username: username.el.value.trim() }
          if (name.el.value.trim()) body.name = name.el.value.trim()
          if (email.el.value.trim()) body.email = email.el.value.trim()
          if (roles.el.value.trim()) body.roles = split(roles.el.value)
          if (password.el.value) body.password = password.el.value
          status.textContent = 'Creating…'
          try {
            const { body: made } = await call<User>('POST', '/users', { body })
            announce(`User ${made.username} created.`)
            view.title(`User ${made.username} created`)
            const done = h(
              'div',
              { class: 'card' },
              made.password
                ? secretPanel(
                    'Generated password',
                    made.password,
                    'Give it to them over a safe channel; it is stored only as a hash.',
                  )
                : h('p', null, 'The user can sign in with the password you set.'),
              h(
                'p',
                null,
                h('a', { href: page(`users/${enc(made.sub)}`), class: 'button' }, `Continue to ${made.username}`),
              ),
            )
            view.root.replaceChildren(done)
            ;(done.querySelector('.secret') as HTMLElement | null)?.focus()
          } catch (err) {
            status.textContent = ''
            problem.replaceChildren(alertBox(describe(err)))
            problem.focus()
          }
        },
      },
      problem,
      username.field,
      name.field,
      email.field,
      roles.field,
      password.field,
      h(
        'div',
        { class: 'form-actions' },
        h('button', { type: 'submit' }, 'Create user'),
        h('a', { href: page('users'), class: 'button secondary' }, 'Cancel'),
      ),
      status,
    ),
  )
}

/** A user's live sessions, each with End, and End all. */
export function sessionList(
  sessions: readonly Session[],
  end: (s: Session) => Promise<void>,
  options: { withUser?: boolean; testid?: string } = {},
): HTMLElement {
  const columns = [...(options.withUser ? ['User'] : []), 'Client', 'Signed in', 'Last used', 'Expires', 'Device', '']
  return table(
    'Live sessions',
    columns,
    sessions.map((s) => [
      ...(options.withUser && s.sub ? [h('a', { href: page(`users/${enc(s.sub)}`) }, s.username ?? s.sub)] : []),
      h('span', { class: 'mono' }, s.client_id),
      time(s.created_at),
      time(s.last_used_at),
      time(s.expires_at),
      s.user_agent ?? '—',
      h(
        'button',
        {
          type: 'button',
          class: 'danger',
          'aria-label': `End session ${s.id}${s.username ? ` of ${s.username}` : ''} (${s.client_id})`,
          dataset: { session: s.id },
          onclick: (event) => {
            const button = event.currentTarget as HTMLButtonElement
            button.disabled = true
            void end(s).finally(() => {
              button.disabled = false
            })
          },
        },
        'End',
      ),
    ]),
    { empty: 'No live sessions.', testid: options.testid ?? 'sessions' },
  )
}

async function detail(view: View): Promise<void> {
  const sub = view.params.sub as string
  let { body: user, etag } = await call<User>('GET', `/users/${enc(sub)}`, { signal: view.signal })
  view.title(`User ${user.username}`)
  const meta = h('p', { class: 'muted small' })
  const showMeta = () =>
    meta.replaceChildren(
      h('span', { class: 'mono' }, user.sub),
      ' · ',
      statusPill(user),
      ' · created ',
      time(user.created_at),
      ' · changed ',
      time(user.updated_at),
    )
  showMeta()
  const conflictBox = h('div')
  const conflict = () =>
    conflictBox.replaceChildren(
      alertBox(
        [
          h('strong', null, 'Conflict: '),
          'this user was changed by someone else after you opened the page, so nothing was changed.',
        ],
        h(
          'button',
          { type: 'button', class: 'secondary', onclick: () => view.go(`users/${enc(sub)}`, { replace: true }) },
          'Load the latest version',
        ),
      ),
    )
  /** A conditional change; the new version's ETag is kept. */
  const patch = async (body: Record<string, unknown>, status: HTMLElement, done: string) => {
    conflictBox.replaceChildren()
    status.textContent = 'Saving…'
    try {
      const answer = await call<User>('PATCH', `/users/${enc(sub)}`, { body, etag })
      user = answer.body
      etag = answer.etag
      showMeta()
      status.textContent = done + (answer.body.sessions_ended ? ` ${answer.body.sessions_ended} session(s) ended.` : '')
      return true
    } catch (err) {
      status.textContent = ''
      if (err instanceof ApiError && err.conflict) conflict()
      else status.textContent = describe(err)
      return false
    }
  }

  // Access: disable / enable, delete.
  const accessStatus = statusLine('access-status')
  const toggle = h('button', { type: 'button', class: user.disabled ? 'secondary' : 'danger', id: 'toggle-disabled' })
  const showToggle = () => {
    toggle.textContent = user.disabled ? 'Enable user' : 'Disable user'
    toggle.className = user.disabled ? 'secondary' : 'danger'
  }
  showToggle()
  toggle.addEventListener('click', async () => {
    if (!user.disabled) {
      const ok = await confirm({
        title: `Disable ${user.username}?`,
        text: 'They can no longer sign in; every session of theirs ends and every token of theirs is refused, at every verifier, within a second.',
        action: 'Disable user',
      })
      if (!ok) return
    }
    if (await patch({ disabled: !user.disabled }, accessStatus, user.disabled ? 'Enabled.' : 'Disabled.')) {
      showToggle()
      await loadSessions()
    }
  })
  const del = h('button', { type: 'button', class: 'danger' }, 'Delete user')
  del.addEventListener('click', async () => {
    const ok = await confirm({
      title: `Delete ${user.username}?`,
      text: 'Their tokens are refused and their sessions end; the username becomes free. This cannot be undone.',
      action: 'Delete user',
    })
    if (!ok) return
    try {
      await call('DELETE', `/users/${enc(sub)}`, { etag })
      announce(`User ${user.username} deleted.`)
      view.go('users')
    } catch (err) {
      if (err instanceof ApiError && err.conflict) conflict()
      else accessStatus.textContent = describe(err)
    }
  })

  // Profile.
  const name = input('Name', { value: user.name ?? '' })
  const email = input('Email', { type: 'email', value: user.email ?? '' })
  const verified = checkbox('Email verified', user.email_verified === true)
  const picture = input('Picture URL', { type: 'url', value: user.picture ?? '' })
  const roles = input('Roles', { value: user.roles.join(' ') }, 'Separated by spaces; "admin" makes an administrator.')
  const profileStatus = statusLine('profile-status')
  const profile = h(
    'form',
    {
      class: 'card editor',
      'aria-labelledby': 'profile-title',
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault()
        const body: Record<string, unknown> = {}
        const text = (value: string, old: string | undefined, field: string) => {
          const v = value.trim()
          if (v !== (old ?? '')) body[field] = v === '' ? null : v
        }
        text(name.el.value, user.name, 'name')
        text(email.el.value, user.email, 'email')
        text(picture.el.value, user.picture, 'picture')
        if (verified.el.checked !== (user.email_verified === true)) body.email_verified = verified.el.checked
        const nextRoles = split(roles.el.value)
        if (nextRoles.join(' ') !== user.roles.join(' ')) body.roles = nextRoles
        if (Object.keys(body).length === 0) {
          profileStatus.textContent = 'Nothing changed.'
          return
        }
        await patch(body, profileStatus, 'Saved.')
      },
    },
    h('h2', { id: 'profile-title' }, 'Profile and roles'),
    name.field,
    email.field,
    verified.field,
    picture.field,
    roles.field,
    h('div', { class: 'form-actions' }, h('button', { type: 'submit' }, 'Save profile')),
    profileStatus,
  )

  // Password.
  const password = input(
    'New password',
    { type: 'password', autocomplete: 'new-password' },
    'Left empty, a strong one is generated and shown once.',
  )
  const keep = checkbox('Keep their sessions (otherwise every session ends)', false)
  const passwordStatus = statusLine('password-status')
  const generated = h('div')
  const passwordForm = h(
    'form',
    {
      class: 'card editor',
      'aria-labelledby': 'password-title',
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault()
        generated.replaceChildren()
        const chosen = password.el.value
        const value =
          chosen ||
          btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(18))))
            .replace(/\+/g, '-')
            .replace(/\//g, '_')
        if (await patch({ password: value, keep_sessions: keep.el.checked }, passwordStatus, 'Password set.')) {
          password.el.value = ''
          if (!chosen)
            generated.append(secretPanel('Generated password', value, 'Give it to them over a safe channel.'))
          await loadSessions()
        }
      },
    },
    h('h2', { id: 'password-title' }, 'Reset the password'),
    password.field,
    keep.field,
    h('div', { class: 'form-actions' }, h('button', { type: 'submit' }, 'Set password')),
    passwordStatus,
    generated,
  )

  // Sessions.
  const sessionsBody = h('div')
  const sessionStatus = statusLine('user-sessions-status')
  const endAll = h('button', { type: 'button', class: 'danger', id: 'end-all' }, 'End all sessions')
  const loadSessions = async () => {
    const { body } = await call<Page<Session>>('GET', `/users/${enc(sub)}/sessions`)
    endAll.hidden = body.items.length === 0
    sessionsBody.replaceChildren(
      sessionList(body.items, async (s) => {
        try {
          await call('DELETE', `/sessions/${enc(s.id)}`)
          sessionStatus.textContent = 'Session ended.'
        } catch (err) {
          sessionStatus.textContent = describe(err)
        }
        await loadSessions()
      }),
    )
  }
  endAll.addEventListener('click', async () => {
    const ok = await confirm({
      title: `End every session of ${user.username}?`,
      text: 'They are signed out everywhere; their tokens are refused within a second.',
      action: 'End all sessions',
    })
    if (!ok) return
    try {
      const { body } = await call<{ ended: number }>('DELETE', `/users/${enc(sub)}/sessions`)
      sessionStatus.textContent = `${body.ended} session(s) ended.`
    } catch (err) {
      sessionStatus.textContent = describe(err)
    }
    await loadSessions()
  })

  view.root.append(
    meta,
    conflictBox,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'sessions-title' },
      h('div', { class: 'section-head' }, h('h2', { id: 'sessions-title' }, 'Sessions'), endAll),
      sessionStatus,
      sessionsBody,
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'access-title' },
      h('h2', { id: 'access-title' }, 'Access'),
      h('p', { class: 'actions' }, toggle, del),
      accessStatus,
    ),
    profile,
    passwordForm,
  )
  await loadSessions()
}

export const userRoutes: Route[] = [
  { path: 'users', section: 'users', title: 'Users', render: list },
  { path: 'users/new', section: 'users', title: 'New user', render: create },
  { path: 'users/:sub', section: 'users', title: 'User', render: detail },
]
