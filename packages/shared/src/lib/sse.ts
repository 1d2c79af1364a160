// A Server-Sent Events client on node:http(s): one connection, `Last-Event-ID` to resume, a socket that does not
// keep the process alive, and a stall timer (a connection that goes silent is dropped, not trusted).
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'

export interface SseMessage {
  readonly event: string
  readonly id: string | undefined
  readonly data: string
}

export interface SseHandlers {
  onOpen?(): void
  onMessage(message: SseMessage): void
  /** The stream ended or failed; `err` says why (undefined: the server closed it). */
  onClose(err?: Error): void
}

/**
 * Opens `url` as an event stream. Resolves nothing; every outcome goes to the handlers, exactly one `onClose` last.
 *
 * @example
 * const stream = openEventStream(url, lastId, { onMessage: (m) => …, onClose: () => reconnect() }, 10_000)
 * stream.close()
 */
export function openEventStream(
  url: URL,
  lastEventId: string | undefined,
  handlers: SseHandlers,
  stallMs: number,
): { close(): void } {
  let closed = false
  const finish = (err?: Error) => {
    if (closed) return
    closed = true
    clearTimeout(stall)
    req.destroy()
    handlers.onClose(err)
  }
  let stall = setTimeout(() => finish(new Error('event stream went silent')), stallMs)
  const alive = () => {
    clearTimeout(stall)
    stall = setTimeout(() => finish(new Error('event stream went silent')), stallMs)
    stall.unref()
  }
  stall.unref()
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest
  const req = request(url, {
    headers: {
      accept: 'text/event-stream',
      'cache-control': 'no-store',
      ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }),
    },
  })
  req.on('socket', (socket) => socket.unref())
  req.on('error', (err) => finish(err))
  req.on('response', (res) => {
    if (res.statusCode !== 200 || !String(res.headers['content-type']).startsWith('text/event-stream')) {
      res.resume()
      finish(new Error(`event stream answered ${res.statusCode}`))
      return
    }
    handlers.onOpen?.()
    res.setEncoding('utf8')
    let buffer = ''
    let event = 'message'
    let id: string | undefined
    let data: string[] = []
    res.on('data', (chunk: string) => {
      alive()
      buffer += chunk
      let newline = buffer.search(/\r\n|\r|\n/)
      while (newline !== -1) {
        const line = buffer.slice(0, newline)
        buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1))
        if (line === '') {
          if (data.length > 0) handlers.onMessage({ event, id, data: data.join('\n') })
          event = 'message'
          data = []
        } else if (!line.startsWith(':')) {
          const colon = line.indexOf(':')
          const field = colon === -1 ? line : line.slice(0, colon)
          const value = colon === -1 ? '' : line.slice(colon + (line[colon + 1] === ' ' ? 2 : 1))
          if (field === 'event') event = value
          else if (field === 'data') data.push(value)
          else if (field === 'id') id = value
        }
        newline = buffer.search(/\r\n|\r|\n/)
      }
      if (buffer.length > 1_000_000) finish(new Error('event stream line too long'))
    })
    res.on('end', () => finish())
    res.on('error', (err) => finish(err))
  })
  req.end()
  return { close: () => finish() }
}
