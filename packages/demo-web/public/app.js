// The demo page: sign in, notes through the resource API, sessions, sign out.
import * as auth from './auth.js'

const $ = (id) => document.getElementById(id)
const config = await auth.loadConfig()

/**
 * Shows a message next to what it is about (each message region has role=status, so screen readers announce it)
 * and scrolls it into view on a small screen; an empty text clears it.
 */
function say(id, text, { error = false } = {}) {
  const region = $(id)
  region.textContent = text
  region.classList.toggle('error', error)
  if (text && !region.closest('[hidden]')) region.scrollIntoView({ block: 'nearest' })
}

const MESSAGES = ['signed-out-status', 'account-status', 'note-status', 'sessions-status']

/** Switches between the two views; a message for the signed-out view is shown at the top of its card. */
function show(signedIn, message = '', { focus = false } = {}) {
  for (const id of MESSAGES) say(id, '')
  $('signed-in').hidden = !signedIn
  $('signed-out').hidden = signedIn
  if (signedIn) {
    const who = auth.identity()
    $('greeting').textContent = `Signed in as ${who?.name ?? who?.preferred_username ?? who?.sub ?? 'you'}`
    if (focus) $('greeting').focus()
  } else {
    say('signed-out-status', message)
    // The button just pressed is gone with its view; the message says what happened, and keyboard focus stays put.
    if (focus) $(message ? 'signed-out-status' : 'username').focus()
  }
}

/** What went wrong, in words, from a failed request to the API or the auth server. */
const problem = (what, res) => `Could not ${what} (the server answered ${res.status}). Please try again.`

async function loadNotes() {
  const res = await auth.authorized(`${config.apiUrl}/v1/notes`)
  if (!res.ok) throw new Error(problem('load your notes', res))
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
  if (!res.ok) throw new Error(problem('load where you are signed in', res))
  const sessions = await res.json()
  $('sessions').replaceChildren(...sessions.map(sessionRow))
  return sessions
}

function sessionRow(s) {
  const tr = document.createElement('tr')
  if (s.current) tr.className = 'current'
  const device = s.user_agent ?? 'unknown device'
  for (const [label, text] of [
    ['App', s.client_id],
    ['Device', device],
    ['Signed in', new Date(s.created_at).toLocaleString()],
    ['Last used', new Date(s.last_used_at).toLocaleString()],
  ]) {
    const td = document.createElement('td')
    td.textContent = text
    td.dataset.label = label
    tr.append(td)
  }
  if (s.current) {
    const pill = document.createElement('span')
    pill.className = 'pill'
    pill.textContent = 'this browser'
    tr.firstChild.append(' ', pill)
  }
  const td = document.createElement('td')
  const end = document.createElement('button')
  end.type = 'button'
  end.className = 'danger'
  end.textContent = 'End'
  // The visible word alone is ambiguous in a list read aloud; the name says which session (and starts with "End").
  end.setAttribute('aria-label', s.current ? 'End the session in this browser' : `End the session on ${device}`)
  end.dataset.session = s.id
  end.addEventListener('click', () => endSession(s.id, s.current))
  td.append(end)
  tr.append(td)
  return tr
}

/** Asks before ending this browser's own session (a modal dialog: focus stays in it, Escape cancels). */
function confirmEndCurrent() {
  const dialog = $('end-current')
  dialog.returnValue = ''
  dialog.showModal()
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'end'), { once: true })
  })
}

async function endSession(id, current) {
  if (current && !(await confirmEndCurrent())) return
  try {
    const res = await auth.authorized(`${config.authUrl}/session/${encodeURIComponent(id)}`, {
      method: 'DELETE',
      credentials: 'include',
    })
    // 404: it had already ended, which is what was asked for.
    if (!res.ok && res.status !== 404) throw new Error(problem('end that session', res))
    if (current) {
      auth.forget()
      show(false, 'You ended the session in this browser, so you are signed out.', { focus: true })
      return
    }
    await loadSessions()
    $('sessions-title').focus()
    say('sessions-status', 'Session ended.')
  } catch (err) {
    handleFailure(err, 'sessions-status')
  }
}

/** The signed-in view, its notes and sessions loaded side by side; a failure shows in the part it concerns. */
async function enter({ focus = false } = {}) {
  show(true, '', { focus })
  await Promise.all([
    loadNotes().catch((err) => handleFailure(err, 'note-status')),
    loadSessions().catch((err) => handleFailure(err, 'sessions-status')),
  ])
}

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  $('login-error').hidden = true
  try {
    await auth.login($('username').value, $('password').value)
  } catch (err) {
    $('login-error').textContent = err.message
    $('login-error').hidden = false
    return
  }
  $('password').value = ''
  await enter({ focus: true })
})

$('note-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  const text = $('note-text').value.trim()
  if (!text) return
  say('note-status', '')
  try {
    const res = await auth.authorized(`${config.apiUrl}/v1/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text }),
    })
    if (!res.ok) throw new Error(problem('save the note', res))
    $('note-text').value = ''
    await loadNotes()
    say('note-status', 'Note added.')
  } catch (err) {
    handleFailure(err, 'note-status')
  }
})
// A message about the last note goes once the next one is being written.
$('note-text').addEventListener('input', () => say('note-status', ''))

$('logout').addEventListener('click', async () => {
  try {
    if ((await auth.logout()) === 'redirected') return // to the auth server's end_session_endpoint and back
    show(false, 'Signed out.', { focus: true })
  } catch (err) {
    handleFailure(err, 'account-status')
  }
})

$('logout-all').addEventListener('click', async () => {
  try {
    const res = await auth.authorized(`${config.authUrl}/session/logout-all`, {
      method: 'POST',
      credentials: 'include',
    })
    if (!res.ok) throw new Error(problem('sign you out everywhere', res))
    auth.forget()
    show(false, 'Signed out on every device.', { focus: true })
  } catch (err) {
    handleFailure(err, 'account-status')
  }
})

$('code-login').addEventListener('click', () => auth.startCodeFlow())

/** A session that ended elsewhere sends the page back to sign-in; anything else is said where it happened. */
function handleFailure(err, where) {
  if (!auth.signedIn()) {
    show(false, 'Your session has ended. Please sign in again.', { focus: true })
  } else {
    // fetch rejects with a TypeError when the server cannot be reached; its message is the browser's, not ours.
    const text = err instanceof TypeError ? 'Could not reach the server. Please try again.' : err.message
    say(where, text, { error: true })
  }
}

// For tests and the curious: the live pieces of this page.
window.demo = { auth, loadNotes, loadSessions, refresh: auth.refresh }

const params = new URLSearchParams(location.search)
if (params.has('state')) {
  const ours = auth.returnedFromLogout(params)
  history.replaceState(null, '', '/')
  show(false, ours ? 'Signed out.' : '')
} else if (auth.mayResume()) {
  try {
    await auth.refresh() // a session from an earlier visit, another tab, or the code flow that just finished
  } catch {
    show(false, 'Your session has ended. Please sign in again.')
  }
  if (auth.signedIn()) await enter()
} else {
  show(false)
}
document.body.dataset.ready = 'true'
