// A test OTLP/HTTP receiver: what a collector would get from our services (JSON encoding), flattened to spans.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ReceivedSpan {
  readonly service: string
  readonly name: string
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string | undefined
  readonly kind: number
  readonly attributes: Record<string, unknown>
}

/** OTLP JSON ids are hex (or base64 in some encoders): normalised to lower-case hex. */
const hexId = (id: unknown): string | undefined => {
  if (typeof id !== 'string' || id === '') return undefined
  return /^[0-9a-f]+$/i.test(id) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex')
}

const attributeValue = (v: Record<string, unknown> | undefined): unknown =>
  v === undefined
    ? undefined
    : (v.stringValue ?? v.boolValue ?? (v.intValue === undefined ? undefined : Number(v.intValue)) ?? v.doubleValue)

export interface OtlpReceiver {
  readonly url: string
  readonly spans: ReceivedSpan[]
  /** Every raw request body received (for "no secret anywhere" scans). */
  readonly bodies: string[]
  /** Resolves once `predicate` holds over the spans received (bounded). */
  waitFor(predicate: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>
  close(): Promise<void>
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = []
  const bodies: string[] = []
  const server: Server = createServer((req, res) => {
    let body = ''
    req.on('data', (d) => {
      body += d
    })
    req.on('end', () => {
      bodies.push(body)
      try {
        const doc = JSON.parse(body) as { resourceSpans?: Record<string, unknown>[] }
        for (const rs of doc.resourceSpans ?? []) {
          const resourceAttrs = ((rs.resource as { attributes?: { key: string; value: Record<string, unknown> }[] })
            ?.attributes ?? []) as { key: string; value: Record<string, unknown> }[]
          const service = String(attributeValue(resourceAttrs.find((a) => a.key === 'service.name')?.value) ?? '')
          for (const ss of (rs.scopeSpans ?? []) as { spans?: Record<string, unknown>[] }[]) {
            for (const s of ss.spans ?? []) {
              const attributes: Record<string, unknown> = {}
              for (const a of (s.attributes ?? []) as { key: string; value: Record<string, unknown> }[]) {
                attributes[a.key] = attributeValue(a.value)
              }
              spans.push({
                service,
                name: String(s.name),
                traceId: hexId(s.traceId) ?? '',
                spanId: hexId(s.spanId) ?? '',
                parentSpanId: hexId(s.parentSpanId),
                kind: Number(s.kind),
                attributes,
              })
            }
          }
        }
      } catch {}
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    bodies,
    async waitFor(predicate, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs
      while (!predicate(spans)) {
        if (Date.now() > deadline)
          throw new Error(`spans never matched: ${spans.map((s) => `${s.service}:${s.name}`).join(', ')}`)
        await new Promise((r) => setTimeout(r, 50))
      }
      return spans
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
