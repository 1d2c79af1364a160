// Sessions: every live session with its user and client (end one, or all of a user's), and ending a session by its
// id alone (a token's `sid`, or one an audit event names).
import { call, collect, enc, type Session } from '../api.js'
import type { Route } from '../router.js'
import { fill, h, uid } from '../ui/dom.js'
import { confirm, describe, statusLine } from '../ui/feedback.js'
import { sessionList } from './users.js'

export const sessionsRoute: Route = {
  path: 'sessions',
  section: 'sessions',
  title: 'Sessions',
  async render(view) {
    const status = statusLine('sessions-status')
    const list = h('div', { id: 'all-sessions' })
    const more = h('p', { class: 'muted small' })
    const load = async () => {
      const { items, more: truncated } = await collect<Session>('/sessions', {}, 10)
      const byUser = new Map<string, Session[]>()
      for (const s of items) byUser.set(s.sub ?? '', [...(byUser.get(s.sub ?? '') ?? []), s])
      more.textContent = truncated
        ? 'Only the first sessions are shown; end some, or look a user up, to see the rest.'
        : ''
      fill(
        list,
        h('p', null, `${items.length} live session(s) of ${byUser.size} user(s).`),
        sessionList(
          items,
          async (s) => {
            try {
              await call('DELETE', `/sessions/${enc(s.id)}`)
              status.textContent = `Session of ${s.username ?? s.sub} ended.`
            } catch (err) {
              status.textContent = describe(err)
            }
            await load()
          },
          { withUser: true, testid: 'all-sessions' },
        ),
        byUser.size > 0
          ? h(
              'div',
              { class: 'per-user' },
              h('h2', null, 'End all of a user’s sessions'),
              h(
                'ul',
                { class: 'plain' },
                [...byUser.values()].map((sessions) => {
                  const first = sessions[0] as Session
                  const who = first.username ?? first.sub ?? ''
                  return h(
                    'li',
                    null,
                    h(
                      'button',
                      {
                        type: 'button',
                        class: 'danger',
                        onclick: async () => {
                          const ok = await confirm({
                            title: `End every session of ${who}?`,
                            text: `${sessions.length} session(s) end; their tokens are refused within a second.`,
                            action: 'End all sessions',
                          })
                          if (!ok) return
                          try {
                            const { body } = await call<{ ended: number }>(
                              'DELETE',
                              `/users/${enc(first.sub ?? '')}/sessions`,
                            )
                            status.textContent = `${body.ended} session(s) of ${who} ended.`
                          } catch (err) {
                            status.textContent = describe(err)
                          }
                          await load()
                        },
                      },
                      `End all ${sessions.length} of ${who}`,
                    ),
                  )
                }),
              ),
            )
          : null,
      )
    }

    const idField = uid('sid')
    const sid = h('input', {
      id: idField,
      spellcheck: 'false',
      autocomplete: 'off',
      required: true,
      'aria-describedby': `${idField}-help`,
    })
    const byIdStatus = statusLine('end-by-id-status')
    const byId = h(
      'form',
      {
        class: 'card toolbar',
        'aria-labelledby': `${idField}-title`,
        onsubmit: async (event) => {
          event.preventDefault()
          const value = sid.value.trim()
          if (!value) return
          try {
            await call('DELETE', `/sessions/${enc(value)}`)
            byIdStatus.textContent = 'Session ended.'
            sid.value = ''
            await load()
          } catch (err) {
            byIdStatus.textContent = describe(err)
          }
        },
      },
      h('h2', { id: `${idField}-title`, class: 'full' }, 'End a session by its id'),
      h(
        'div',
        { class: 'grow' },
        h('label', { for: idField }, 'Session id'),
        sid,
        h('p', { id: `${idField}-help`, class: 'help' }, 'The sid of its tokens, or the id an audit event names.'),
      ),
      h('button', { type: 'submit', class: 'danger' }, 'End session'),
      byIdStatus,
    )
    view.root.append(h('section', { class: 'card', 'aria-label': 'Live sessions' }, status, list, more), byId)
    await load()
  },
}
