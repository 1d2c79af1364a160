// Clients: the list with a search, a new client (its secret shown once), and one client's page — its settings
// edited against the version read (a stale edit is a clear conflict, never a lost update), its secret rotated, the
// client removed after a confirmation.
import { ApiError, type Client, call, enc, type Page } from '../api.js'
import type { Route, View } from '../router.js'
import { page } from '../settings.js'
import { h, table, time } from '../ui/dom.js'
import { alertBox, announce, confirm, describe, secretPanel, statusLine } from '../ui/feedback.js'
import { type ClientForm, clientForm, describedFields, FieldError, mergePatch } from './client-form.js'

const kind = (c: Client) => h('span', { class: 'pill' }, c.public ? 'public' : 'confidential')

async function list(view: View): Promise<void> {
  const q = view.query.get('q') ?? ''
  const search = h('input', {
    type: 'search',
    id: 'client-search',
    name: 'q',
    value: q,
    autocomplete: 'off',
    spellcheck: 'false',
  })
  const results = h('div', { id: 'client-results', 'aria-live': 'polite' })
  let cursor: string | null = null
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Show more')
  const rows: Client[] = []
  const show = () => {
    results.replaceChildren(
      table(
        'Clients',
        ['Client', 'Type', 'Grants', 'Audiences'],
        rows.map((c) => [
          h(
            'a',
            { href: page(`clients/${enc(c.client_id)}`) },
            c.name
              ? [c.name, h('span', { class: 'muted block mono' }, c.client_id)]
              : h('span', { class: 'mono' }, c.client_id),
          ),
          kind(c),
          c.grant_types.join(', '),
          c.audiences.join(', '),
        ]),
        { empty: q ? `No client matches “${q}”.` : 'No clients yet.', testid: 'clients' },
      ),
    )
  }
  const load = async (reset: boolean) => {
    if (reset) {
      rows.length = 0
      cursor = null
    }
    const { body } = await call<Page<Client>>('GET', '/clients', {
      query: { q: search.value.trim(), limit: 50, cursor: cursor ?? undefined },
      signal: view.signal,
    })
    rows.push(...body.items)
    cursor = body.next_cursor
    more.hidden = cursor === null
    show()
  }
  more.addEventListener('click', () => void load(false).catch((err) => results.append(alertBox(describe(err)))))
  let timer: ReturnType<typeof setTimeout> | undefined
  const form = h(
    'form',
    {
      role: 'search',
      class: 'toolbar',
      onsubmit: (event) => {
        event.preventDefault()
        clearTimeout(timer)
        const value = search.value.trim()
        history.replaceState(null, '', page(`clients${value ? `?q=${enc(value)}` : ''}`))
        void load(true).catch((err) => results.replaceChildren(alertBox(describe(err))))
      },
    },
    h('div', { class: 'grow' }, h('label', { for: 'client-search' }, 'Search clients by id or name'), search),
    h('button', { type: 'submit', class: 'secondary' }, 'Search'),
    h('a', { href: page('clients/new'), class: 'button' }, 'New client'),
  )
  search.addEventListener('input', () => {
    clearTimeout(timer)
    timer = setTimeout(() => form.requestSubmit(), 300)
  })
  view.root.append(form, results, more)
  await load(true)
}

async function create(view: View): Promise<void> {
  const schema = await describedFields()
  const form = clientForm({}, schema, 'create')
  const problem = h('div')
  const status = statusLine()
  const submit = h('button', { type: 'submit' }, 'Create client')
  const el = h(
    'form',
    {
      class: 'card editor',
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault()
        form.clearErrors()
        problem.replaceChildren()
        let body: Record<string, unknown>
        try {
          body = form.read()
        } catch (err) {
          if (err instanceof FieldError) return
          throw err
        }
        submit.disabled = true
        status.textContent = 'Creating…'
        try {
          const { body: made } = await call<Client>('POST', '/clients', { body })
          announce(`Client ${made.client_id} created.`)
          const done = h(
            'div',
            { class: 'card' },
            made.client_secret
              ? secretPanel(
                  'Client secret',
                  made.client_secret,
                  'Put it where the service reads its credentials now: it is stored only as a hash and cannot be shown again (rotate it to get a new one).',
                )
              : h('p', null, 'A public client has no secret.'),
            h(
              'p',
              null,
              h(
                'a',
                { href: page(`clients/${enc(made.client_id)}`), class: 'button' },
                `Continue to ${made.client_id}`,
              ),
            ),
          )
          view.title(`Client ${made.client_id} created`)
          view.root.replaceChildren(done)
          ;(done.querySelector('.secret') as HTMLElement | null)?.focus()
        } catch (err) {
          status.textContent = ''
          const shown = err instanceof ApiError && err.status === 400 && form.showError(err.message)
          problem.replaceChildren(alertBox(describe(err)))
          if (!shown) problem.focus()
        } finally {
          submit.disabled = false
        }
      },
    },
    problem,
    form.el,
    h('div', { class: 'form-actions' }, submit, h('a', { href: page('clients'), class: 'button secondary' }, 'Cancel')),
    status,
  )
  view.root.append(
    h(
      'p',
      { class: 'muted' },
      'Every field is checked by the server exactly as the bootstrap file is; its message appears next to the field.',
    ),
    el,
  )
}

async function detail(view: View): Promise<void> {
  const id = view.params.id as string
  const [{ body: client, etag: firstEtag }, schema] = await Promise.all([
    call<Client>('GET', `/clients/${enc(id)}`, { signal: view.signal }),
    describedFields(),
  ])
  let etag = firstEtag
  let current: Client = client
  view.title(client.name ? `Client ${client.name}` : `Client ${client.client_id}`)

  const secretArea = h('div')
  const actionStatus = statusLine('client-action-status')
  const rotate = h('button', { type: 'button', class: 'secondary', id: 'rotate-secret' }, 'Rotate secret')
  const remove = h('button', { type: 'button', class: 'danger', id: 'remove-client' }, 'Remove client')
  const conflictBox = h('div', { dataset: { testid: 'conflict-area' } })
  const conflict = (what: string) =>
    conflictBox.replaceChildren(
      h(
        'div',
        { class: 'alert', role: 'alert', dataset: { testid: 'conflict' } },
        h(
          'p',
          null,
          h('strong', null, 'Conflict: '),
          `this client was changed by someone else after you opened it, so ${what} did not happen — nothing was overwritten. Your edits are still in the form.`,
        ),
        h(
          'p',
          { class: 'actions' },
          h(
            'button',
            { type: 'button', class: 'secondary', onclick: () => view.go(`clients/${enc(id)}`, { replace: true }) },
            'Load the latest version',
          ),
        ),
      ),
    )

  rotate.hidden = client.public
  rotate.addEventListener('click', async () => {
    const ok = await confirm({
      title: `Rotate the secret of ${id}?`,
      text: 'A new secret is made and shown once. The current secret stops working at once (on other auth-server instances within 5 seconds): the service needs the new one.',
      action: 'Rotate secret',
    })
    if (!ok) return
    try {
      const answer = await call<{ client_id: string; client_secret: string }>('POST', `/clients/${enc(id)}/secret`, {
        etag,
      })
      etag = answer.etag ?? etag
      secretArea.replaceChildren(
        secretPanel(
          'New client secret',
          answer.body.client_secret,
          'The previous secret no longer works. Store this one where the service reads it.',
        ),
      )
      actionStatus.textContent = 'Secret rotated.'
      ;(secretArea.firstElementChild as HTMLElement).focus()
    } catch (err) {
      if (err instanceof ApiError && err.conflict) conflict('rotating the secret')
      else actionStatus.textContent = describe(err)
    }
  })
  remove.addEventListener('click', async () => {
    const ok = await confirm({
      title: `Remove ${id}?`,
      text: 'The client is deleted and every token issued to it is refused from now on, at every verifier. This cannot be undone.',
      action: 'Remove client',
    })
    if (!ok) return
    try {
      await call('DELETE', `/clients/${enc(id)}`, { etag })
      announce(`Client ${id} removed.`)
      view.go('clients')
    } catch (err) {
      if (err instanceof ApiError && err.conflict) conflict('the removal')
      else actionStatus.textContent = describe(err)
    }
  })

  const form: ClientForm = clientForm(client, schema, 'edit')
  const problem = h('div', { tabindex: '-1' })
  const saveStatus = statusLine('save-status')
  const save = h('button', { type: 'submit' }, 'Save changes')
  const meta = h('p', { class: 'muted small', id: 'client-meta' })
  const showMeta = () =>
    meta.replaceChildren(
      h('span', { class: 'mono' }, current.client_id),
      ' · ',
      kind(current),
      current.dynamically_registered ? ' · registered by itself (RFC 7591)' : '',
      ' · created ',
      time(current.created_at),
      ' · changed ',
      time(current.updated_at),
    )
  showMeta()

  const editor = h(
    'form',
    {
      class: 'card editor',
      novalidate: true,
      'aria-labelledby': 'settings-title',
      onsubmit: async (event) => {
        event.preventDefault()
        form.clearErrors()
        problem.replaceChildren()
        conflictBox.replaceChildren()
        let next: Record<string, unknown>
        try {
          next = form.read()
        } catch (err) {
          if (err instanceof FieldError) return
          throw err
        }
        const patch = mergePatch(current, next)
        if (Object.keys(patch).length === 0) {
          saveStatus.textContent = 'Nothing changed.'
          return
        }
        save.disabled = true
        saveStatus.textContent = 'Saving…'
        try {
          const answer = await call<Client>('PATCH', `/clients/${enc(id)}`, { body: patch, etag })
          etag = answer.etag
          current = answer.body
          showMeta()
          saveStatus.textContent = `Saved (${Object.keys(patch).join(', ')}).`
          if (answer.body.client_secret) {
            secretArea.replaceChildren(
              secretPanel('Client secret', answer.body.client_secret, 'It became confidential and got a secret.'),
            )
          }
        } catch (err) {
          saveStatus.textContent = ''
          if (err instanceof ApiError && err.conflict) {
            conflict('saving your changes')
            ;(conflictBox.querySelector('[role=alert]') as HTMLElement | null)?.setAttribute('tabindex', '-1')
            ;(conflictBox.querySelector('[role=alert]') as HTMLElement | null)?.focus()
          } else {
            const placed = err instanceof ApiError && err.status === 400 && form.showError(err.message)
            problem.replaceChildren(alertBox(describe(err)))
            if (!placed) problem.focus()
          }
        } finally {
          save.disabled = false
        }
      },
    },
    h('h2', { id: 'settings-title' }, 'Settings'),
    problem,
    form.el,
    h('div', { class: 'form-actions' }, save),
    saveStatus,
  )

  view.root.append(
    meta,
    conflictBox,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'client-actions-title' },
      h('h2', { id: 'client-actions-title' }, 'Credentials and removal'),
      h(
        'p',
        { class: 'muted' },
        client.public
          ? 'A public client has no secret.'
          : 'Its secret is stored only as a hash; rotating makes a new one, shown once.',
      ),
      h('p', { class: 'actions' }, rotate, remove),
      actionStatus,
      secretArea,
    ),
    editor,
  )
}

export const clientRoutes: Route[] = [
  { path: 'clients', section: 'clients', title: 'Clients', render: list },
  { path: 'clients/new', section: 'clients', title: 'New client', render: create },
  { path: 'clients/:id', section: 'clients', title: 'Client', render: detail },
]
