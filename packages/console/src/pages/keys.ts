// Signing keys: for each algorithm the server has keys for, which key is next (published, not yet signing), which
// signs, which are retiring and until when; a staged rotation per algorithm. The page follows the keys' own dates, so
// a state change shows without a reload.
import { call, type Key, type Page } from '../api.js'
import type { Route } from '../router.js'
import { h, table, time } from '../ui/dom.js'
import { announce, confirm, describe, statusLine } from '../ui/feedback.js'
import { KEY_STATES, keyState } from './common.js'

const ORDER: Record<string, number> = { pending: 0, active: 1, verifying: 2, retired: 3 }

export const keysRoute: Route = {
  path: 'keys',
  section: 'keys',
  title: 'Signing keys',
  async render(view) {
    const status = statusLine('keys-status')
    const body = h('div', { id: 'keys' })
    let timer: ReturnType<typeof setTimeout> | undefined
    view.signal.addEventListener('abort', () => clearTimeout(timer))

    const load = async () => {
      const { body: page } = await call<Page<Key>>('GET', '/keys', { signal: view.signal })
      const algs = [...new Set(page.items.map((k) => k.alg))].sort()
      body.replaceChildren(
        ...algs.map((alg) => {
          const keys = page.items
            .filter((k) => k.alg === alg)
            .sort((a, b) => (ORDER[a.state] ?? 9) - (ORDER[b.state] ?? 9) || b.created_at.localeCompare(a.created_at))
          const rotate = h('button', { type: 'button', class: 'secondary', dataset: { alg } }, `Rotate the ${alg} key`)
          rotate.addEventListener('click', async () => {
            const ok = await confirm({
              title: `Rotate the ${alg} signing key?`,
              text: 'A new key is published now and signs once verifiers have had time to fetch it (KEY_PUBLISH_DELAY); the current key keeps verifying the tokens it signed until they expire. Nothing is refused.',
              action: `Rotate ${alg} key`,
              danger: false,
            })
            if (!ok) return
            try {
              const { body: key } = await call<Key>('POST', '/keys/rotate', { body: { alg } })
              status.textContent = `New ${alg} key ${key.kid} published; it signs from ${new Date(key.activates_at).toLocaleString()}.`
              announce(status.textContent)
              await load()
            } catch (err) {
              status.textContent = describe(err)
            }
          })
          return h(
            'section',
            { class: 'card', 'aria-labelledby': `alg-${alg}`, dataset: { testid: `keys-${alg}` } },
            h('div', { class: 'section-head' }, h('h2', { id: `alg-${alg}` }, alg), rotate),
            table(
              `${alg} keys`,
              ['Key', 'State', '', 'Created', 'Signs from', 'Retires'],
              keys.map((k) => [
                h('span', { class: 'mono', dataset: { kid: k.kid } }, k.kid),
                keyState(k),
                KEY_STATES[k.state]?.note(k) ?? '',
                time(k.created_at),
                time(k.activates_at),
                time(k.retires_at),
              ]),
            ),
          )
        }),
      )
      if (algs.length === 0) body.append(h('p', { class: 'muted' }, 'This server has no signing keys yet.'))
      // The next moment a key changes state (one becomes active, one retires): look again then.
      const now = Date.now()
      const upcoming = page.items
        .flatMap((k) => [k.state === 'pending' ? k.activates_at : null, k.state === 'verifying' ? k.retires_at : null])
        .filter((t): t is string => t !== null)
        .map((t) => Date.parse(t) - now)
        .filter((ms) => ms > 0)
      clearTimeout(timer)
      if (upcoming.length) {
        timer = setTimeout(() => void load().catch(() => {}), Math.min(...upcoming) + 1_000)
      }
    }
    view.root.append(
      h(
        'p',
        { class: 'muted' },
        'Next: published, not yet signing. Active: signs new tokens. Retiring: verifies the tokens it signed until it retires.',
      ),
      status,
      body,
    )
    await load()
  },
}
