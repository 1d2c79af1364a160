// The console's entry point: finishes a sign-in, resumes this tab's session or offers to sign in, lets only
// administrators in, then shows the navigation and routes to the page of the address.
import {
  currentIdentity,
  finishSignIn,
  isAdministrator,
  mayResume,
  refresh,
  returnedFromSignOut,
  SignedOut,
  signIn,
  signOut,
} from './auth/session.js'
import { auditRoute } from './pages/audit.js'
import { clientRoutes } from './pages/clients.js'
import { keysRoute } from './pages/keys.js'
import { overviewRoute } from './pages/overview.js'
import { sessionsRoute } from './pages/sessions.js'
import { userRoutes } from './pages/users.js'
import { currentPath, render, startRouter } from './router.js'
import { page, readSettings } from './settings.js'
import { fill, h } from './ui/dom.js'
import { alertBox } from './ui/feedback.js'

const SECTIONS = [
  ['', 'Overview'],
  ['clients', 'Clients'],
  ['users', 'Users'],
  ['sessions', 'Sessions'],
  ['keys', 'Signing keys'],
  ['audit', 'Audit log'],
] as const

const main = () => document.getElementById('main') as HTMLElement
const ready = () => {
  document.body.dataset.ready = 'true'
}

/** The card that offers to sign in (with what just happened, if anything). */
function signInCard(notice?: string): void {
  const returnTo = currentPath() === 'callback' ? '' : currentPath() + location.search
  const heading = h('h1', { tabindex: '-1' }, 'Sign in to the Tollgate console')
  fill(
    main(),
    h(
      'section',
      { class: 'card narrow', 'aria-labelledby': 'sign-in-title' },
      notice ? h('p', { class: 'notice', role: 'status', dataset: { testid: 'notice' } }, notice) : null,
      Object.assign(heading, { id: 'sign-in-title' }),
      h(
        'p',
        null,
        'The console manages clients, users, sessions, signing keys and the audit log of this server. Sign in with an administrator’s account.',
      ),
      h('button', { type: 'button', id: 'sign-in', onclick: () => void signIn(returnTo) }, 'Sign in'),
    ),
  )
  document.title = 'Sign in · Tollgate console'
  ;(document.getElementById('nav') as HTMLElement).hidden = true
  fill(document.getElementById('account') as HTMLElement)
  ready()
  if (notice) heading.focus()
}

function accountBar(): void {
  const who = currentIdentity()
  const name = who?.name ?? who?.preferred_username ?? who?.sub ?? 'you'
  fill(
    document.getElementById('account') as HTMLElement,
    h('span', { class: 'who', dataset: { testid: 'who' } }, name),
    h('button', { type: 'button', class: 'secondary small', onclick: () => signOut() }, 'Sign out'),
  )
}

function navigation(): void {
  const nav = document.getElementById('nav') as HTMLElement
  fill(
    nav,
    h(
      'ul',
      null,
      SECTIONS.map(([path, label]) => h('li', null, h('a', { href: page(path), dataset: { section: path } }, label))),
    ),
  )
  nav.hidden = false
}

async function start(): Promise<void> {
  const { issuer } = readSettings()
  // One address for the console: the issuer's (its redirect URI and the API's DPoP proofs name it).
  if (location.origin !== new URL(issuer).origin) {
    location.replace(new URL(location.pathname + location.search, issuer).href)
    return
  }
  const params = new URLSearchParams(location.search)
  if (currentPath() === 'callback') {
    try {
      const returnTo = await finishSignIn(params)
      history.replaceState(null, '', page(returnTo))
    } catch (err) {
      history.replaceState(null, '', page(''))
      signInCard(`Signing in did not work: ${(err as Error).message}. Please try again.`)
      return
    }
  } else if (mayResume()) {
    try {
      await refresh()
    } catch (err) {
      signInCard(err instanceof SignedOut ? 'Your console session has ended. Sign in again.' : (err as Error).message)
      return
    }
  } else {
    const signedOut = params.has('state') && returnedFromSignOut(params)
    if (signedOut) history.replaceState(null, '', page(''))
    signInCard(signedOut ? 'Signed out.' : undefined)
    return
  }

  accountBar()
  if (!isAdministrator()) {
    fill(
      main(),
      h('h1', { tabindex: '-1' }, 'Administrators only'),
      alertBox(
        'Your account is not an administrator of this server, so the console shows it nothing. An administrator can give you the admin role.',
      ),
    )
    document.title = 'Administrators only · Tollgate console'
    ready()
    return
  }
  navigation()
  startRouter([overviewRoute, ...clientRoutes, ...userRoutes, sessionsRoute, keysRoute, auditRoute], () =>
    signInCard('Your console session has ended. Sign in again.'),
  )
  await render(false)
  ready()
}

start().catch((err: Error) => {
  fill(main(), h('h1', null, 'The console could not start'), alertBox(err.message))
  ready()
})
