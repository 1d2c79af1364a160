// Pages by path below /console/, without reloading: links inside the console are followed in place, Back and
// Forward work, and each page's heading takes the focus so a screen reader says where one is.
import { SignedOut } from './auth/session.js'
import { page, readSettings } from './settings.js'
import { h } from './ui/dom.js'
import { alertBox, describe } from './ui/feedback.js'

/** What a page gets: where to render, the path's parameters and query, and a signal aborted when it is left. */
export interface View {
  readonly root: HTMLElement
  readonly params: Readonly<Record<string, string>>
  readonly query: URLSearchParams
  readonly signal: AbortSignal
  /** Sets the page's heading and the document's title. */
  title(text: string): void
  /** Goes to another console page (`clients/abc`), replacing this entry in the history when asked. */
  go(path: string, options?: { replace?: boolean }): void
}

export interface Route {
  /** `clients/:id`: segments, `:name` for a parameter. */
  readonly path: string
  /** The navigation entry it belongs to (highlighted as the current page). */
  readonly section: string
  readonly title: string
  render(view: View): Promise<void>
}

let routes: readonly Route[] = []
let current: AbortController | undefined
let onSignedOut: (() => void) | undefined

function match(path: string): { route: Route; params: Record<string, string> } | undefined {
  const parts = path.split('/').filter(Boolean)
  for (const route of routes) {
    const pattern = route.path.split('/').filter(Boolean)
    if (pattern.length !== parts.length) continue
    const params: Record<string, string> = {}
    if (
      pattern.every((p, i) => {
        const part = parts[i] as string
        if (p.startsWith(':')) {
          params[p.slice(1)] = decodeURIComponent(part)
          return true
        }
        return p === part
      })
    ) {
      return { route, params }
    }
  }
  return undefined
}

/** The console path of the current location (`clients/abc`). */
export function currentPath(): string {
  const { base } = readSettings()
  return location.pathname.startsWith(`${base}/`) ? location.pathname.slice(base.length + 1) : ''
}

function markNav(section: string): void {
  for (const a of document.querySelectorAll<HTMLAnchorElement>('#nav a')) {
    if (a.dataset.section === section) a.setAttribute('aria-current', 'page')
    else a.removeAttribute('aria-current')
  }
}

/** Renders the page of the current location; `focus`: move the focus to its heading (not on the first load). */
export async function render(focus = true): Promise<void> {
  current?.abort()
  const controller = new AbortController()
  current = controller
  const main = document.getElementById('main') as HTMLElement
  const found = match(currentPath())
  const heading = h('h1', { tabindex: '-1', id: 'page-title' })
  const root = h('div', { class: 'page' })
  main.replaceChildren(heading, root)
  const title = (text: string) => {
    heading.textContent = text
    document.title = `${text} · Tollgate console`
  }
  if (!found) {
    title('Page not found')
    root.append(
      h('p', null, 'There is no such page in the console. ', h('a', { href: page('') }, 'Go to the overview'), '.'),
    )
    markNav('')
    if (focus) heading.focus()
    return
  }
  title(found.route.title)
  markNav(found.route.section)
  if (focus) heading.focus()
  const view: View = {
    root,
    params: found.params,
    query: new URLSearchParams(location.search),
    signal: controller.signal,
    title,
    go: (path, options) => navigate(page(path), options),
  }
  root.setAttribute('aria-busy', 'true')
  try {
    await found.route.render(view)
  } catch (err) {
    if (controller.signal.aborted) return
    if (err instanceof SignedOut) {
      onSignedOut?.()
      return
    }
    root.append(alertBox(describe(err)))
  } finally {
    if (current === controller) root.removeAttribute('aria-busy')
  }
}

/** Goes to a console URL without reloading. */
export function navigate(href: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', href)
  else history.pushState(null, '', href)
  void render()
}

/** Starts routing: links below the console's path stay in the page. */
export function startRouter(table: readonly Route[], signedOut: () => void): void {
  routes = table
  onSignedOut = signedOut
  const { base } = readSettings()
  document.addEventListener('click', (event) => {
    if (
      event.defaultPrevented ||
      event.button !== 0 ||
      event.metaKey ||
      event.ctrlKey ||
      event.shiftKey ||
      event.altKey
    )
      return
    const a = (event.target as Element | null)?.closest('a')
    if (!a || a.target || a.hasAttribute('download')) return
    const url = new URL(a.href, location.href)
    if (
      url.origin !== location.origin ||
      !url.pathname.startsWith(`${base}/`) ||
      a.getAttribute('href')?.startsWith('#')
    )
      return
    event.preventDefault()
    navigate(url.pathname + url.search)
  })
  window.addEventListener('popstate', () => void render())
}
