// What an UNAUTHENTICATED answer says is wrong with the authorization
// header, never its secret (server/grpc/auth.ts unauthenticatedMessage).
// Found by hostile testing: "Bearer <token> " (a trailing space) was
// answered "no authorization metadata": HTTP/2 drops such a value before
// grpc-js sees it, so the message must say that may be why.
import { describe, expect, it } from 'vitest'
import { bearerSecret, unauthenticatedMessage } from '../../../server/grpc/auth.js'

const TOKEN = 'secret-token-0123456789abcdef'

describe('unauthenticatedMessage', () => {
  it.each([
    [undefined, /no "authorization: Bearer <token>" metadata arrived \(HTTP\/2 drops a value that starts or ends with a space/],
    [`Basic ${TOKEN}`, /is not "Bearer <token>"/],
    [`Bearer${TOKEN}`, /is not "Bearer <token>"/],
    ['Bearer', /no token after "Bearer"/],
    ['Bearer   ', /no token after "Bearer"/],
    [`Bearer ${TOKEN} extra`, /holds 2 words after "Bearer", not one token/],
    [`Bearer ${TOKEN}`, /^unknown bearer token$/],
  ])('%s', (header, why) => {
    const message = unauthenticatedMessage(header)
    expect(message).toMatch(why)
    expect(message).not.toContain(TOKEN)
    // Every header called malformed here is one bearerSecret() finds no secret in.
    if (header !== undefined && !/^unknown/.test(message)) expect(bearerSecret(header)).toBeUndefined()
  })
})
