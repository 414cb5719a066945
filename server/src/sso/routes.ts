/**
 * Single sign-on with OpenID Connect (issue 21), the server-side redirect flow:
 *   GET  /api/v1/sso           whether the login page offers "Sign in with <name>"
 *   GET  /api/v1/sso/start     302 to the provider; state, nonce and PKCE verifier sealed in a cookie
 *   GET  /api/v1/sso/callback  the provider's answer: checked, the account made or updated (source
 *                              sso), then 302 to the panel with a one-time code in the fragment
 *                              (never in a query a log keeps), or to an installed client's loopback
 *   POST /api/v1/sso/exchange  the one-time code for a session, once
 * The token never travels in a URL. The cookie and the code are sealed with the server's secret
 * (AES-GCM), so any node of a cluster can take them; "once" is kept in the shared limits (Redis).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import { z } from 'zod';
import { LoginResponse, SsoCallbackQuery, SsoExchangeRequest, SsoInfo, SsoStartQuery } from '../../../shared/index.js';
import type { LoginLimits } from '../auth/login-limits.js';
import { openSession } from '../auth/sign-in.js';
import type { Services } from '../context.js';
import { AppError } from '../errors.js';
import { route } from '../http/route.js';
import { PENDING_MS, SsoRefused, SsoUnavailable, type PendingSignIn, type SsoClient } from './oidc.js';
import { signedInSsoUser } from './rules.js';

const COOKIE = 'portico_sso';
const COOKIE_PATH = '/api/v1/sso';
/** How long the one-time code handed to the panel works. */
const CODE_MS = 60_000;

/** What the cookie holds between start and callback. */
const Pending = z.object({
  state: z.string(),
  nonce: z.string(),
  verifier: z.string(),
  redirectUri: z.string(),
  expiresAt: z.number(),
  returnTo: z.string().optional(),
  challenge: z.string().optional(),
});
/** What the one-time code holds: the user, until when, its once-key, the installed client's PKCE challenge. */
const Code = z.object({ u: z.number().int(), e: z.number(), j: z.string(), c: z.string().optional() });

const redirectText = z.string().describe('a short text; the Location header says where to go');
const LOCATION = { Location: { description: 'where the browser goes next', schema: { type: 'string' } } };

const failed = (message: string) => new AppError(400, 'sso_failed', message);

export function ssoRoutes({ store, sessions, config, log, limits: shared, secret, sso }: Services, limits: LoginLimits) {
  const configured = (): SsoClient => {
    if (!sso) throw new AppError(404, 'sso_not_configured', 'single sign-on is not configured on this server (PORTICO_OIDC_ISSUER); sign in with your user ID and password');
    return sso;
  };

  function unsealed<T>(schema: z.ZodType<T>, sealed: string | undefined): T | undefined {
    if (!sealed) return undefined;
    try {
      return schema.parse(JSON.parse(secret.unseal(sealed)));
    } catch {
      return undefined; // tampered, from another server, or not ours at all
    }
  }

  function redirect(ctx: Context, url: string) {
    ctx.set('Cache-Control', 'no-store');
    ctx.redirect(url);
    ctx.state.status = 302;
    return 'Redirecting';
  }

  /** The provider's answer, checked: the Portico account that signed in. */
  async function signIn(ctx: Context, pending: z.infer<typeof Pending> | undefined, answer: URLSearchParams) {
    const client = configured();
    if (!pending) throw failed('this sign-in was not started in this browser, or it took too long; start again from the login page');
    const error = answer.get('error');
    if (error) throw failed(`the sign-in was refused by ${client.name}: ${answer.get('error_description') ?? error}`);
    const state = answer.get('state') ?? '';
    const a = Buffer.from(state);
    const b = Buffer.from(pending.state);
    if (a.length !== b.length || !timingSafeEqual(a, b)) throw failed('the answer does not belong to this sign-in (state); start again from the login page');
    // The answer is taken once (a replayed callback URL with the same cookie is refused here).
    if (!(await shared.once(`sso-state:${pending.state}`, pending.expiresAt))) throw failed('this sign-in was already used; start again from the login page');
    let who;
    try {
      who = await client.finish(pending satisfies PendingSignIn, answer);
    } catch (err) {
      if (err instanceof SsoUnavailable) {
        log.warn({ err }, 'single sign-on: the provider cannot be reached');
        throw new AppError(503, 'sso_unavailable', `${client.name} cannot be reached just now; try again in a moment (local accounts still sign in)`);
      }
      if (err instanceof SsoRefused) {
        log.info({ err: err.message, ip: ctx.ip }, 'single sign-on refused');
        throw failed(err.message);
      }
      throw err;
    }
    const result = await store.write((tx) => signedInSsoUser(tx, who));
    if ('refused' in result) {
      if (result.refused === 'disabled') throw new AppError(403, 'forbidden', `the account ${who.username} is disabled in Portico; ask your administrator`);
      throw new AppError(
        409,
        'sso_account_conflict',
        `the user ID ${who.username} belongs to a ${result.source} account in Portico, which single sign-on never takes over; sign in with that account's password, or ask your administrator`,
      );
    }
    return result.user;
  }

  return [
    route({
      method: 'get',
      path: '/api/v1/sso',
      tag: 'auth',
      summary: 'Whether single sign-on (OpenID Connect) is on, and the name the login page shows',
      access: 'public',
      response: SsoInfo,
      async handler() {
        return sso ? { enabled: true, name: sso.name } : { enabled: false };
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/sso/start',
      tag: 'auth',
      summary: "Start single sign-on: 302 to the provider's sign-in page (state, nonce and PKCE kept in a sealed, short-lived cookie)",
      access: 'public',
      query: SsoStartQuery,
      response: redirectText,
      responseTypes: ['text/plain'],
      responseHeaders: LOCATION,
      status: 302,
      errors: [404, 429, 503],
      async handler({ query }, ctx) {
        const client = configured();
        await limits.admitAddress(ctx.ip);
        if (query.challenge && !query.return_to) throw new AppError(400, 'invalid_request', 'challenge goes with return_to (an installed client)');
        const redirectUri = config.oidcRedirectUri ?? `${ctx.protocol}://${ctx.host}/api/v1/sso/callback`;
        let started;
        try {
          started = await client.begin(redirectUri);
        } catch (err) {
          if (!(err instanceof SsoUnavailable)) throw err;
          log.warn({ err }, 'single sign-on: the provider cannot be reached');
          throw new AppError(503, 'sso_unavailable', `${client.name} cannot be reached just now; try again in a moment, or sign in with your user ID and password`);
        }
        const pending: z.infer<typeof Pending> = { ...started.pending, returnTo: query.return_to, challenge: query.challenge };
        ctx.cookies.set(COOKIE, secret.seal(JSON.stringify(pending)), { httpOnly: true, sameSite: 'lax', path: COOKIE_PATH, maxAge: PENDING_MS, secure: ctx.secure, overwrite: true });
        return redirect(ctx, started.url);
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/sso/callback',
      tag: 'auth',
      summary: 'Where the provider sends the browser back: checks the answer, then 302 to the panel (or the installed client) with a one-time code',
      access: 'public',
      query: SsoCallbackQuery,
      response: redirectText,
      responseTypes: ['text/plain'],
      responseHeaders: LOCATION,
      status: 302,
      errors: [403, 404, 409, 429, 503],
      async handler(_input, ctx) {
        configured();
        await limits.admitAddress(ctx.ip);
        const pending = unsealed(Pending, ctx.cookies.get(COOKIE));
        ctx.cookies.set(COOKIE, null, { path: COOKIE_PATH }); // one answer per start, whatever happens
        const answer = new URLSearchParams(ctx.querystring);
        let user;
        try {
          user = await signIn(ctx, pending, answer);
        } catch (err) {
          // A person in a browser gets the login page with the reason; a program gets the JSON error.
          if (!(err instanceof AppError) || !ctx.get('accept').includes('text/html')) throw err;
          const back = pending?.returnTo ? new URL(pending.returnTo) : undefined;
          if (back) back.search = new URLSearchParams({ error: err.code }).toString();
          return redirect(ctx, back?.href ?? `/app/#sso_error=${err.code}`);
        }
        const code = secret.seal(JSON.stringify({ u: user.id, e: Date.now() + CODE_MS, j: randomBytes(16).toString('base64url'), c: pending?.challenge } satisfies z.infer<typeof Code>));
        if (pending?.returnTo) {
          const back = new URL(pending.returnTo);
          back.search = new URLSearchParams({ code }).toString();
          return redirect(ctx, back.href);
        }
        // In the fragment: browsers do not send it to servers or proxies, so no log keeps it; the panel takes it off at once.
        return redirect(ctx, `/app/#sso=${code}`);
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/sso/exchange',
      tag: 'auth',
      summary: 'Trade the one-time code from single sign-on for a bearer token (once, within a minute)',
      access: 'public',
      body: SsoExchangeRequest,
      response: LoginResponse,
      errors: [403, 404, 409, 429],
      async handler({ body }, ctx) {
        configured();
        await limits.admitAddress(ctx.ip);
        const code = unsealed(Code, body.code);
        if (!code || code.e < Date.now()) throw failed('this sign-in code is not valid or has expired; sign in again');
        if (code.c) {
          const made = body.verifier ? createHash('sha256').update(body.verifier).digest('base64url') : '';
          if (made !== code.c) throw failed('this sign-in code needs the verifier of the client that started it');
        }
        if (!(await shared.once(`sso-code:${code.j}`, code.e))) throw failed('this sign-in code was already used; sign in again');
        const user = await store.userById(code.u);
        if (!user || user.source !== 'sso') throw failed('this sign-in code is not valid; sign in again');
        if (user.disabled) throw new AppError(403, 'forbidden', `the account ${user.username} is disabled in Portico; ask your administrator`);
        return openSession({ store, sessions, config }, user, body.client);
      },
    }),
  ];
}
