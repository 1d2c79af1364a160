import t from 'tap'
import { bearerToken, InvalidRequestError, MissingTokenError } from '../src/index.js'

t.test('the token of an Authorization: Bearer header, however the scheme is spelled', async (t) => {
  t.equal(bearerToken('Bearer abc.def.ghi'), 'abc.def.ghi')
  t.equal(bearerToken('bearer abc.def.ghi'), 'abc.def.ghi', 'the scheme is case-insensitive (RFC 7235 §2.1)')
  t.equal(bearerToken('BEARER abc'), 'abc')
  t.equal(bearerToken('Bearer  abc'), 'abc', 'extra spaces before the token are tolerated')
  t.equal(bearerToken('Bearer abc\t'), 'abc', 'trailing whitespace is not part of the token')
})

t.test('no bearer credential: MissingTokenError (a bare challenge)', async (t) => {
  for (const header of [undefined, '', 'Basic dXNlcjpwYXNz', 'Bearerabc', 'Bearer\tabc', 'Token abc']) {
    t.throws(() => bearerToken(header), MissingTokenError, JSON.stringify(header))
  }
})

t.test('a malformed bearer credential: InvalidRequestError (400)', async (t) => {
  for (const header of ['Bearer', 'Bearer ', 'Bearer   ', 'Bearer a b', 'Bearer abc def', 'bearer a b']) {
    t.throws(() => bearerToken(header), InvalidRequestError, JSON.stringify(header))
  }
})
