import t from 'tap'
import { hasUniqueMembers } from '../src/lib/unique-members.js'

t.test('duplicate member names are found at any depth', async (t) => {
  const cases: [string, boolean][] = [
    ['{"a":1,"b":2}', true],
    ['{"a":1,"a":2}', false],
    ['{"a":{"b":1,"b":2}}', false],
    ['{"a":[{"b":1},{"b":2}]}', true],
    ['{"a":["a","a"]}', true],
    ['{"a":"\\"a\\"","\\"a\\"":1}', true],
    ['{"\\u0061":1,"a":2}', false],
    ['{"a":{"x":1},"b":{"x":1}}', true],
    ['[1,{"k":1,"k":2}]', false],
    ['"just a string"', true],
    ['{"a\\\\":1,"a":2}', true],
  ]
  for (const [json, unique] of cases) t.equal(hasUniqueMembers(json), unique, json)
})
