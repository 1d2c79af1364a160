// How long a test waits for its issuer: `createTestIssuer()` (after import; the first in a process, then the median
// of 20 more) against oauth2-mock-server's start (RS256 key generation, then listen), each in a fresh process.
//   node bench/test-issuer-start.mjs tollgate|oauth2-mock-server  →  {"first": ms, "median": ms}
const which = process.argv[2]
const RUNS = 20
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

let start
if (which === 'tollgate') {
  const { createTestIssuer } = await import('@tollgate/auth-server/testing')
  start = async () => {
    const issuer = await createTestIssuer()
    return () => issuer.close()
  }
} else if (which === 'oauth2-mock-server') {
  const { OAuth2Server } = await import('oauth2-mock-server')
  start = async () => {
    const server = new OAuth2Server()
    await server.issuer.keys.generate('RS256')
    await server.start(0, '127.0.0.1')
    return () => server.stop()
  }
} else {
  process.stderr.write('usage: test-issuer-start.mjs tollgate|oauth2-mock-server\n')
  process.exit(2)
}

const times = []
for (let i = 0; i <= RUNS; i++) {
  const t0 = performance.now()
  const stop = await start()
  times.push(performance.now() - t0)
  await stop()
}
process.stdout.write(`${JSON.stringify({ first: times[0], median: median(times.slice(1)) })}\n`)
