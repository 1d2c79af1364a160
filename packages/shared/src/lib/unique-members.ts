// Detects duplicate member names in JSON objects (RFC 7515 §4, RFC 7519 §4): a token with them is refused.
//
// JSON.parse keeps the last duplicate, other parsers keep the first; a token that two parsers read differently is
// an attack on whoever reads it second, so duplicates are rejected outright rather than resolved.

interface Container {
  readonly names: Set<string> | undefined // undefined for arrays
  expectingName: boolean
}

/** True when no object in the JSON text repeats a member name. Assumes the text is otherwise valid JSON. */
export function hasUniqueMembers(json: string): boolean {
  const stack: Container[] = []
  for (let i = 0; i < json.length; i++) {
    const c = json[i]
    if (c === '"') {
      let j = i + 1
      while (j < json.length && json[j] !== '"') j += json[j] === '\\' ? 2 : 1
      const top = stack[stack.length - 1]
      if (top?.names && top.expectingName) {
        let name: string
        try {
          name = JSON.parse(json.slice(i, j + 1)) as string
        } catch {
          return false
        }
        if (top.names.has(name)) return false
        top.names.add(name)
        top.expectingName = false
      }
      i = j
    } else if (c === '{') {
      stack.push({ names: new Set(), expectingName: true })
    } else if (c === '[') {
      stack.push({ names: undefined, expectingName: false })
    } else if (c === '}' || c === ']') {
      stack.pop()
    } else if (c === ',') {
      const top = stack[stack.length - 1]
      if (top?.names) top.expectingName = true
    }
  }
  return true
}
