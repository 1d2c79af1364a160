// A short, human description of a User-Agent for session lists ("Chrome 131 on Linux").

const BROWSERS: [RegExp, string][] = [
  [/\bEdg(?:e|A|iOS)?\/(\d+)/, 'Edge'],
  [/\bOPR\/(\d+)/, 'Opera'],
  [/\bFirefox\/(\d+)/, 'Firefox'],
  [/\bFxiOS\/(\d+)/, 'Firefox'],
  [/\bHeadlessChrome\/(\d+)/, 'Headless Chrome'],
  [/\bCriOS\/(\d+)/, 'Chrome'],
  [/\bChrome\/(\d+)/, 'Chrome'],
  [/\bVersion\/(\d+)[^ ]* .*Safari\//, 'Safari'],
]

const SYSTEMS: [RegExp, string][] = [
  [/Windows NT/, 'Windows'],
  [/iPhone|iPad|iPod/, 'iOS'],
  [/Android/, 'Android'],
  [/CrOS/, 'ChromeOS'],
  [/Mac OS X|Macintosh/, 'macOS'],
  [/Linux/, 'Linux'],
]

/** Longest description kept: short enough for Redis to store the session compactly. */
export const MAX_USER_AGENT = 64

/**
 * @example
 * describeUserAgent('Mozilla/5.0 (X11; Linux x86_64) … Chrome/131.0.0.0 Safari/537.36') // 'Chrome 131 on Linux'
 * describeUserAgent('curl/8.5.0') // 'curl 8'
 */
export function describeUserAgent(ua: string | undefined): string | undefined {
  if (!ua) return undefined
  const clean = ua.replace(/[^\x20-\x7e]/g, '').trim()
  if (!clean) return undefined
  let browser: string | undefined
  for (const [pattern, name] of BROWSERS) {
    const match = pattern.exec(clean)
    if (match) {
      browser = `${name} ${match[1]}`
      break
    }
  }
  if (!browser) {
    const product = /^([A-Za-z][\w.-]{0,40})\/(\d+)/.exec(clean)
    if (product && product[1] !== 'Mozilla') browser = `${product[1]} ${product[2]}`
  }
  const system = SYSTEMS.find(([pattern]) => pattern.test(clean))?.[1]
  const text = browser ? (system ? `${browser} on ${system}` : browser) : clean
  return text.slice(0, MAX_USER_AGENT)
}
