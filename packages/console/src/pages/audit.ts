// The audit log: filtered by type, actor, target and time, newest first, older pages on request, and new events
// arriving live (announced politely, not read out one by one).
import { type AuditEvent, call, type Page } from '../api.js'
import { follow } from '../audit-stream.js'
import type { Route } from '../router.js'
import { page } from '../settings.js'
import { h, uid } from '../ui/dom.js'
import { alertBox, announce, describe } from '../ui/feedback.js'
import { EVENT_COLUMNS, EVENT_TYPES, eventRow } from './common.js'

function field(label: string, name: string, value: string, props: Record<string, string> = {}, help?: string) {
  const id = uid(`audit-${name}`)
  const el = h('input', {
    id,
    name,
    value,
    autocomplete: 'off',
    spellcheck: 'false',
    ...props,
    ...(help ? { 'aria-describedby': `${id}-help` } : {}),
  })
  return {
    el,
    wrap: h(
      'div',
      { class: 'field' },
      h('label', { for: id }, label),
      el,
      help ? h('p', { id: `${id}-help`, class: 'help' }, help) : null,
    ),
  }
}

/** `2025-01-31T12:00` (a datetime-local, the reader's time zone) as RFC 3339. */
const iso = (local: string) => (local ? new Date(local).toISOString() : '')
const local = (value: string | null) => {
  if (!value) return ''
  const d = new Date(value)
  if (Number.isNaN(d.getTime())) return ''
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16)
}

export const auditRoute: Route = {
  path: 'audit',
  section: 'audit',
  title: 'Audit log',
  async render(view) {
    const q = view.query
    const types = h(
      'datalist',
      { id: 'event-types' },
      EVENT_TYPES.map((t) => h('option', { value: t })),
    )
    const type = field(
      'Event type',
      'type',
      q.get('type') ?? '',
      { list: 'event-types' },
      'Comma-separated; client.* for every client event.',
    )
    const actor = field(
      'Actor',
      'actor',
      q.get('actor') ?? '',
      {},
      'An id, a name, or a label such as client:ci-admin.',
    )
    const target = field('Target', 'target', q.get('target') ?? '', {}, 'An id or a name.')
    const since = field('From', 'since', local(q.get('since')), { type: 'datetime-local' })
    const until = field('Until', 'until', local(q.get('until')), { type: 'datetime-local' })
    const liveId = uid('live')
    const live = h('input', { type: 'checkbox', id: liveId, checked: q.get('live') !== 'off' })
    const liveState = h('p', { class: 'status small', dataset: { testid: 'live-state' } })
    const problem = h('div')
    const tbody = h('tbody', { dataset: { testid: 'audit-events' } })
    const empty = h('p', { class: 'muted' }, 'No events match.')
    const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Show older events')
    let cursor: string | null = null
    let stream: AbortController | undefined
    let newest: string | undefined
    let pendingAnnouncement = 0
    let announceTimer: ReturnType<typeof setTimeout> | undefined

    const row = (e: AuditEvent, fresh = false) =>
      h(
        'tr',
        { class: fresh ? 'new' : null, dataset: { event: e.type, id: e.id } },
        eventRow(e).map((cell, i) => h('td', { 'data-label': EVENT_COLUMNS[i] ?? '' }, cell)),
      )
    const filters = () => ({
      type: type.el.value.trim(),
      actor: actor.el.value.trim(),
      target: target.el.value.trim(),
    })

    const stop = () => {
      stream?.abort()
      stream = undefined
    }
    view.signal.addEventListener('abort', stop)
    const start = () => {
      stop()
      if (!live.checked || until.el.value) {
        liveState.textContent = until.el.value ? 'Not following live: the range has an end.' : 'Not following live.'
        return
      }
      stream = new AbortController()
      const signal = AbortSignal.any([stream.signal, view.signal])
      const active = Object.fromEntries(Object.entries(filters()).filter(([, v]) => v))
      void follow(
        {
          filters: active,
          signal,
          onEvent: (e) => {
            if (since.el.value && e.time < iso(since.el.value)) return
            empty.hidden = true
            tbody.prepend(row(e, true))
            newest = e.id
            pendingAnnouncement++
            clearTimeout(announceTimer)
            announceTimer = setTimeout(() => {
              announce(pendingAnnouncement === 1 ? `New event: ${e.type}` : `${pendingAnnouncement} new events`)
              pendingAnnouncement = 0
            }, 1_000)
          },
          onState: (state, detail) => {
            liveState.textContent =
              state === 'live'
                ? 'Following live: new events appear at the top.'
                : state === 'reconnecting'
                  ? 'Reconnecting…'
                  : `Live updates stopped${detail ? `: ${detail}` : ''}.`
          },
        },
        newest,
      )
    }

    const load = async (reset: boolean) => {
      if (reset) {
        cursor = null
        tbody.replaceChildren()
        newest = undefined
      }
      const { body } = await call<Page<AuditEvent>>('GET', '/audit-events', {
        query: {
          ...filters(),
          since: iso(since.el.value),
          until: iso(until.el.value),
          limit: 50,
          cursor: cursor ?? undefined,
        },
        signal: view.signal,
      })
      if (reset) newest = body.items[0]?.id
      tbody.append(...body.items.map((e) => row(e)))
      empty.hidden = tbody.childElementCount > 0
      cursor = body.next_cursor
      more.hidden = cursor === null
    }
    const apply = async () => {
      problem.replaceChildren()
      const query = new URLSearchParams(
        Object.entries({
          ...filters(),
          since: iso(since.el.value),
          until: iso(until.el.value),
          live: live.checked ? '' : 'off',
        }).filter(([, v]) => v),
      )
      history.replaceState(null, '', page(`audit${query.size ? `?${query}` : ''}`))
      stop()
      try {
        // The page first, then the stream after its newest event: nothing between them is lost.
        await load(true)
        start()
      } catch (err) {
        problem.replaceChildren(alertBox(describe(err)))
      }
    }
    more.addEventListener(
      'click',
      () => void load(false).catch((err) => problem.replaceChildren(alertBox(describe(err)))),
    )
    live.addEventListener('change', () => {
      if (live.checked) return start()
      stop()
      liveState.textContent = 'Not following live.'
    })

    view.root.append(
      types,
      h(
        'form',
        {
          class: 'card filters',
          'aria-label': 'Filter the audit log',
          onsubmit: (event) => {
            event.preventDefault()
            void apply()
          },
        },
        type.wrap,
        actor.wrap,
        target.wrap,
        since.wrap,
        until.wrap,
        h('div', { class: 'form-actions' }, h('button', { type: 'submit' }, 'Apply filters')),
      ),
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'events-title' },
        h(
          'div',
          { class: 'section-head' },
          h('h2', { id: 'events-title' }, 'Events, newest first'),
          h('div', { class: 'check' }, live, h('label', { for: liveId }, 'Follow live')),
        ),
        liveState,
        problem,
        h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            null,
            h('caption', { class: 'visually-hidden' }, 'Audit events, newest first'),
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                EVENT_COLUMNS.map((c) => h('th', { scope: 'col' }, c)),
              ),
            ),
            tbody,
          ),
        ),
        empty,
        more,
      ),
    )
    await apply()
  },
}
