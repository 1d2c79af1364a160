// Following the audit log live: the SSE stream read with `fetch`, because it needs the Authorization header (and a
// DPoP proof) that EventSource cannot send. It resumes after the last event seen (Last-Event-ID) whenever the stream
// ends — the server ends it when the access token expires — so nothing is lost and nothing comes twice.
import { type AuditEvent, adminUrl } from './api.js'
import { authorizedFetch } from './auth/session.js'

export interface FollowOptions {
  readonly filters: Record<string, string>
  readonly signal: AbortSignal
  onEvent(event: AuditEvent): void
  onState(state: 'live' | 'reconnecting' | 'stopped', detail?: string): void
}

/** Parses `text/event-stream` frames as they arrive: `id:`, `event:`, `data:` lines, a blank line ends one. */
export function sseParser(onFrame: (frame: { id?: string; event?: string; data: string }) => void) {
  let buffer = ''
  return (chunk: string) => {
    buffer += chunk
    for (let end = buffer.search(/\r?\n\r?\n/); end !== -1; end = buffer.search(/\r?\n\r?\n/)) {
      const raw = buffer.slice(0, end)
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '')
      const frame: { id?: string; event?: string; data: string } = { data: '' }
      const data: string[] = []
      for (const line of raw.split(/\r?\n/)) {
        if (line.startsWith(':')) continue
        const colon = line.indexOf(':')
        const name = colon === -1 ? line : line.slice(0, colon)
        const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '')
        if (name === 'id') frame.id = value
        else if (name === 'event') frame.event = value
        else if (name === 'data') data.push(value)
      }
      frame.data = data.join('\n')
      if (frame.data) onFrame(frame)
    }
  }
}

/** Follows the stream until `signal` aborts; `after`: resume after this event id. */
export async function follow(options: FollowOptions, after?: string): Promise<void> {
  let last = after
  let delay = 500
  while (!options.signal.aborted) {
    try {
      const res = await authorizedFetch(adminUrl('/audit-events/stream', options.filters), {
        headers: { accept: 'text/event-stream', ...(last ? { 'last-event-id': last } : {}) },
        signal: options.signal,
      })
      if (!res.ok || !res.body) {
        const body = (await res.json().catch(() => ({}))) as { error_description?: string }
        options.onState('stopped', body.error_description ?? `the server answered ${res.status}`)
        if (res.status === 401 || res.status === 403) return
      } else {
        options.onState('live')
        delay = 500
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
        const parse = sseParser((frame) => {
          if (frame.event !== 'audit') return
          if (frame.id) last = frame.id
          options.onEvent(JSON.parse(frame.data) as AuditEvent)
        })
        for (;;) {
          const { value, done } = await reader.read()
          if (done) break
          parse(value)
        }
      }
    } catch (err) {
      if (options.signal.aborted) return
      if ((err as Error).name === 'SignedOut') {
        options.onState('stopped', (err as Error).message)
        return
      }
    }
    if (options.signal.aborted) return
    options.onState('reconnecting')
    await new Promise((resolve) => setTimeout(resolve, delay))
    delay = Math.min(delay * 2, 10_000)
  }
}
