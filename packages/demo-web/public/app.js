// The demo page: sign in, notes through the resource API, sessions, sign out.
import * as auth from './auth.js'

const $ = (id) => document.getElementById(id)
const config = await auth.loadConfig()
const status = (text) => {
  $('status').textContent = text
}

function show(signedIn) {
  $('signed-in').hidden = !signedIn
  $('signed-out').hidden = signedIn
  if (signedIn) {
    const who = auth.identity()
    $('greeting').textContent = `Signed in as ${who?.name ?? who?.preferred_username ?? who?.sub ?? 'you'}`
  }
}

async function loadNotes() {
  const res = await auth.authorized(`${config.apiUrl}/v1/notes`)
  if (!res.ok) throw new Error(`notes: ${res.status}`)
  const notes = await res.json()
  $('notes').replaceChildren(
    ...notes.map((note) => {
      const li = document.createElement('li')
      li.textContent = note.text
      return li
    }),
  )
  return notes
}

async function loadSessions() {
  const res = await auth.authorized(`${config.authUrl}/session`, { credentials: 'include' })
  if (!res.ok) throw new Error(`sessions: ${res.status}`)
  const sessions = await res.json()
  $('sessions').replaceChildren(
    ...sessions.map((s) => {
      const tr = document.createElement('tr')
      if (s.current) tr.className = 'current'
      for (const [label, text] of [
        ['Client', s.client_id],
        ['Device', s.user_agent ?? 'unknown'],
        ['Signed in', new Date(s.created_at).toLocaleString()],
        ['Last used', new Date(s.last_used_at).toLocaleString()],
      ]) {
        const td = document.createElement('td')
        td.textContent = text
        td.dataset.label = label
        tr.append(td)
      }
      const td = document.createElement('td')
      const end = document.createElement('button')
      end.type = 'button'
      end.className = 'danger'
      end.textContent = 'End'
      end.dataset.session = s.id
      end.addEventListener('click', () => endSession(s.id, s.current))
      td.append(end)
      tr.append(td)
      return tr
    }),
  )
  return sessions
}

async function endSession(id, current) {
  await auth.authorized(`${config.authUrl}/session/${encodeURIComponent(id)}`, {
    method: 'DELETE',
    credentials: 'include',
  })
  if (current) {
    auth.forget()
    show(false)
    status('This session was ended.')
  } else {
    await loadSessions()
  }
}

async function enter() {
  show(true)
  await Promise.all([loadNotes(), loadSessions()])
  status('Ready.')
}

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  $('login-error').hidden = true
  try {
    await auth.login($('username').value, $('password').value)
    $('password').value = ''
    await enter()
  } catch (err) {
    $('login-error').textContent = err.message
    $('login-error').hidden = false
  }
})

$('note-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  const text = $('note-text').value.trim()
  if (!text) return
  try {
    const res = await auth.authorized(`${config.apiUrl}/v1/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text }),
    })
    if (!res.ok) throw new Error(`add note: ${res.status}`)
    $('note-text').value = ''
    await loadNotes()
    status('Note added.')
  } catch (err) {
    handleFailure(err)
  }
})

$('logout').addEventListener('click', async () => {
  if ((await auth.logout()) === 'redirected') return // to the auth server's end_session_endpoint and back
  show(false)
  status('Signed out.')
})

$('logout-all').addEventListener('click', async () => {
  await auth.authorized(`${config.authUrl}/session/logout-all`, { method: 'POST', credentials: 'include' })
  auth.forget()
  show(false)
  status('Signed out everywhere.')
})

$('code-login').addEventListener('click', () => auth.startCodeFlow())

function handleFailure(err) {
  if (!auth.signedIn()) {
    show(false)
    status('Your session has ended; please sign in again.')
  } else {
    status(err.message)
  }
}

// For tests and the curious: the live pieces of this page.
window.demo = { auth, loadNotes, loadSessions, refresh: auth.refresh }

const params = new URLSearchParams(location.search)
if (params.has('state')) {
  const ours = auth.returnedFromLogout(params)
  history.replaceState(null, '', '/')
  show(false)
  status(ours ? 'Signed out.' : 'Not signed in.')
} else if (auth.mayResume()) {
  try {
    await auth.refresh() // a session from an earlier visit, another tab, or the code flow that just finished
    await enter()
  } catch {
    show(false)
    status('Not signed in.')
  }
} else {
  show(false)
  status('Not signed in.')
}
document.body.dataset.ready = 'true'
