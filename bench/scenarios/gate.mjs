// The gate's benchmarks: its decision for a cached token beside the resource API's /v1/me (the same verifier core,
// no upstream), and what asking it adds to a request through nginx — docs/gate.md's configuration, against nginx
// proxying the same upstream without it. Latencies are taken per response (autocannon's histogram keeps whole
// milliseconds; a sub-millisecond difference needs the exact figures).
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'
import { freePort, median, sleep } from '../lib.mjs'

/** Requests per second (all 50 connections together) of the nginx scenarios. */
export const NGINX_RATE = 1_000
const NGINX = process.env.NGINX_PATH ?? (existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx')

/** docs/gate.md's nginx configuration, as the tests run it. */
async function documentedNginx(root) {
  const doc = await readFile(path.join(root, 'docs/gate.md'), 'utf8')
  const at = doc.indexOf('<!-- tested: nginx -->')
  const block = /```[a-z]*\n([\s\S]*?)```/.exec(doc.slice(at))?.[1]
  if (at === -1 || !block) throw new Error('docs/gate.md: no tested nginx block')
  return block
}

/**
 * One nginx process with two servers in front of the same upstream: `gated` is docs/gate.md's configuration (an
 * auth request to the gate for every request), `plain` proxies without it.
 */
export async function startNginx({ root, gatePort, upstreamPort }) {
  const [gated, plain] = [await freePort(), await freePort()]
  const dir = await mkdtemp(path.join(tmpdir(), 'tollgate-bench-nginx-'))
  await chmod(dir, 0o755)
  await mkdir(path.join(dir, 'tmp'))
  const site = (await documentedNginx(root))
    .replaceAll('127.0.0.1:3003', `127.0.0.1:${gatePort}`)
    .replaceAll('127.0.0.1:8081', `127.0.0.1:${upstreamPort}`)
    .replaceAll('127.0.0.1:8080', `127.0.0.1:${gated}`)
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `${k}_temp_path ${dir}/tmp/${k};`)
  await writeFile(
    path.join(dir, 'nginx.conf'),
    `pid ${dir}/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  ${temp.join('\n  ')}
  ${site}
  server {
    listen 127.0.0.1:${plain};
    location / {
      proxy_set_header Host $http_host;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_pass http://orders_app;
    }
  }
}
`,
  )
  const child = spawn(
    NGINX,
    ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', 'stderr', '-g', 'daemon off; master_process off;'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  )
  let stderr = ''
  child.stderr.on('data', (d) => {
    stderr += d
  })
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`)
    const open = await new Promise((resolve) => {
      const socket = connect(plain, '127.0.0.1')
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (open) break
    if (i > 400) throw new Error(`nginx did not listen: ${stderr}`)
    await sleep(25)
  }
  return {
    gated: `http://127.0.0.1:${gated}`,
    plain: `http://127.0.0.1:${plain}`,
    stop: () =>
      new Promise((resolve) => {
        const done = () => rm(dir, { recursive: true, force: true }).then(resolve)
        if (child.exitCode !== null) return done()
        child.once('exit', done)
        child.kill('SIGKILL')
      }),
  }
}

/** autocannon with the exact median and p99 of successful answers (`p50Exact`, `p99Exact`, ms). */
export function exactCannon(options) {
  return new Promise((resolve, reject) => {
    const times = []
    const instance = autocannon({ connections: 100, pipelining: 1, ...options }, (err, result) => {
      if (err) return reject(err)
      times.sort((a, b) => a - b)
      const total = result.requests.total || 1
      const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0
      resolve({
        rps: result.requests.average,
        p50: result.latency.p50,
        p99: result.latency.p99,
        p50Exact: at(0.5),
        p99Exact: at(0.99),
        non2xx: result.non2xx + result.errors + result.timeouts,
        errorShare: (result.non2xx + result.errors + result.timeouts) / total,
      })
    })
    instance.on('response', (_client, status, _bytes, responseTime) => {
      if (status >= 200 && status < 300) times.push(responseTime)
    })
    instance.on('error', reject)
  })
}

/**
 * The scenarios: `gateVerify` (the gate's /verify as nginx calls it, for a token it has verified before),
 * `nginxPlain` and `nginxGate` (GET / through nginx, 50 connections at {@link NGINX_RATE} requests a second in all,
 * without and with the gate).
 */
export async function gateScenarios({ gate, nginx, token }) {
  const authorization = `Bearer ${token}`
  const verifyHeaders = { authorization, 'x-original-method': 'GET', 'x-original-url': 'https://api.bench.test/v1/me' }
  const probe = await fetch(`${gate.url}/verify`, { headers: verifyHeaders })
  if (probe.status !== 200) throw new Error(`the gate refuses the bench token: ${probe.status} ${await probe.text()}`)
  const scenarios = {
    gateVerify: (duration) => exactCannon({ url: `${gate.url}/verify`, headers: verifyHeaders, duration }),
  }
  if (nginx === undefined) return scenarios // not asked for (--only)
  const through = await fetch(`${nginx.gated}/`, { headers: { authorization } })
  if (through.status !== 200) throw new Error(`nginx with the gate refuses the bench token: ${through.status}`)
  // 50 connections sending NGINX_RATE requests a second in all, well below what either path can serve: the medians
  // then measure the work a request takes, not a queue (a saturated closed loop would measure throughput twice).
  const viaNginx = (url) => (duration) =>
    exactCannon({ url, headers: { authorization }, connections: 50, overallRate: NGINX_RATE, duration })
  return { ...scenarios, nginxPlain: viaNginx(`${nginx.plain}/`), nginxGate: viaNginx(`${nginx.gated}/`) }
}

/** What the gate adds to the median through nginx: the median over rounds of each round's difference (ms). */
export const addedP50 = (results) =>
  median(results.nginxGate.map((r, i) => r.p50Exact - (results.nginxPlain[i]?.p50Exact ?? 0)))
