/** Single sign-on with OpenID Connect (issue 21): what the login page and the panel exchange. */
import { z } from 'zod';
import { ClientInfo } from './schemas.js';

/** GET /api/v1/sso: whether the login page offers "Sign in with <name>". */
export const SsoInfo = z.strictObject({
  enabled: z.boolean(),
  /** The company name to show, when enabled. */
  name: z.string().optional(),
});
export type SsoInfo = z.infer<typeof SsoInfo>;

/** GET /api/v1/sso/start: where to come back to (the panel, or an installed client's loopback listener). */
export const SsoStartQuery = z.strictObject({
  /**
   * An installed client's loopback redirect (RFC 8252), e.g. http://127.0.0.1:49152/callback: after
   * sign-in the browser is sent there with the one-time code instead of to the panel at /app.
   */
  return_to: z
    .string()
    .max(100)
    .regex(/^http:\/\/(127\.0\.0\.1|\[::1\]):\d{1,5}\/[A-Za-z0-9/_-]{0,40}$/, 'a loopback address: http://127.0.0.1:<port>/<path>')
    .optional(),
  /**
   * With return_to: BASE64URL(SHA-256(verifier)) of a secret the installed client keeps (PKCE
   * between the client and Portico, RFC 7636 S256): the exchange then needs the verifier, so a
   * one-time code another program on the computer catches is of no use to it.
   */
  challenge: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'BASE64URL(SHA-256(verifier)), 43 characters').optional(),
});

/** GET /api/v1/sso/callback: what the provider sends back (code and state, or an error). */
export const SsoCallbackQuery = z.object({
  code: z.string().max(4096).optional(),
  state: z.string().max(512).optional(),
  error: z.string().max(200).optional(),
  error_description: z.string().max(1000).optional(),
});

/** POST /api/v1/sso/exchange: the one-time code the callback handed the panel, for a session. */
export const SsoExchangeRequest = z.strictObject({
  code: z.string().min(1).max(2048),
  /** As at POST /api/v1/login: an installed client registers its terminal. */
  client: ClientInfo.optional(),
  /** The PKCE verifier, when the sign-in was started with a challenge. */
  verifier: z.string().regex(/^[A-Za-z0-9._~-]{43,128}$/, 'a PKCE code verifier (RFC 7636)').optional(),
});
