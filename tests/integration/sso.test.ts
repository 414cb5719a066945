/**
 * Single sign-on with OpenID Connect (issue 21) against a real provider (oidc-provider,
 * tests/helpers/oidc.ts), over real HTTP: start → the provider's login form → callback → one-time
 * code → session. Refused: a tampered state, a tampered or foreign cookie (state and nonce), a
 * replayed callback and code, a nonce that is not the sign-in's, an expired ID token, a claim that
 * is not a Portico user ID, and a local account's ID (never taken over). An issuer that cannot be
 * reached answers 503 sso_unavailable while local login works; the login limit per address holds.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loopbackSignIn } from '../../electron/main/sso-loopback.js';
import { SsoClient, SsoRefused } from '../../server/src/sso/oidc.js';
import { ServerConfig } from '../../server/src/config.js';
import { CookieJar, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, jarFetch, listenOidcProvider, signIn, type TestOidcProvider } from '../helpers/oidc.js';
import { Client, PASSWORD, expectError, login, reply, send, startTestServer, type TestServer } from '../helpers/server.js';

const settings = (issuer: string) => ({
  oidcIssuer: issuer,
  oidcClientId: OIDC_CLIENT_ID,
  oidcClientSecret: OIDC_CLIENT_SECRET,
  oidcName: 'Example Corp',
  oidcAllowHttp: true,
  oidcTimeoutMs: 2000,
  loginPerIpPerMinute: 1000,
});

describe('single sign-on (OpenID Connect)', { timeout: 60_000 }, () => {
  let idp: TestOidcProvider;
  let server: TestServer;
  let callbackPrefix: string;

  beforeAll(async () => {
    idp = await listenOidcProvider();
    server = await startTestServer(settings(idp.issuer));
    callbackPrefix = `${server.url}/api/v1/sso/callback`;
    await idp.start({ redirectUris: [callbackPrefix, 'http://127.0.0.1:1/callback'] });
    await server.user('local-carol', 'Carol Local');
  });
  afterAll(async () => {
    await server?.destroy();
    await idp?.close();
  });

  /** GET /api/v1/sso/start in a fresh browser: the provider's URL and the jar with Portico's cookie. */
  async function start(query = '') {
    const jar = new CookieJar();
    const res = await jarFetch(jar, `${server.url}/api/v1/sso/start${query}`);
    expect(res.status).toBe(302);
    expect(jar.get(server.url, 'portico_sso')).toBeTruthy();
    return { jar, authorizationUrl: res.headers.get('location')! };
  }

  /** Up to the provider's redirect back to Portico (not yet requested). */
  async function throughProvider(login: string, query = '') {
    const { jar, authorizationUrl } = await start(query);
    const callbackUrl = await signIn(jar, authorizationUrl, login, callbackPrefix);
    return { jar, callbackUrl };
  }

  /** The callback as a program (JSON errors) or as a browser (Accept: text/html). */
  const callback = (jar: CookieJar, url: string, html = false) => jarFetch(jar, url, html ? { headers: { accept: 'text/html' } } : {});

  const codeOf = (res: Response) => {
    const location = res.headers.get('location') ?? '';
    return decodeURIComponent(/#sso=(.+)$/.exec(location)?.[1] ?? '');
  };

  it('tells the login page that SSO is on, and its name', async () => {
    const res = await send(`${server.url}/api/v1/sso`, {});
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ enabled: true, name: 'Example Corp' });
  });

  it('signs a user in: account made with source sso and the display name from the claims; the session works', async () => {
    const { jar, authorizationUrl } = await start();
    const auth = new URL(authorizationUrl);
    expect(auth.origin).toBe(idp.issuer);
    expect(auth.searchParams.get('code_challenge_method')).toBe('S256');
    expect(auth.searchParams.get('state')).toBeTruthy();
    expect(auth.searchParams.get('nonce')).toBeTruthy();
    expect(auth.searchParams.get('redirect_uri')).toBe(callbackPrefix);
    const callbackUrl = await signIn(jar, authorizationUrl, 'sso-alice', callbackPrefix);
    const res = await callback(jar, callbackUrl);
    expect(res.status).toBe(302);
    const location = res.headers.get('location')!;
    // The panel gets a one-time code in the fragment, never the token in a URL.
    expect(location).toMatch(/^\/app\/#sso=/);
    const code = codeOf(res);
    const exchanged = await send(`${server.url}/api/v1/sso/exchange`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) });
    expect(exchanged.status).toBe(200);
    expect(location).not.toContain(exchanged.body.token);
    expect(exchanged.body.user).toMatchObject({ username: 'sso-alice', displayName: 'Alice Single' });
    const alice = new Client(server.url, exchanged.body.token, 'sso-alice');
    const me = await alice.get('/api/v1/me');
    expect(me.status).toBe(200);
    expect(me.body.user).toMatchObject({ username: 'sso-alice', displayName: 'Alice Single', isAdmin: false });
    const users = await server.admin.get('/api/v1/admin/users');
    expect(users.body.users.find((u: any) => u.username === 'sso-alice')).toMatchObject({ source: 'sso', disabled: false });
    // An SSO account has no password here.
    await expectError(await login(server, 'sso-alice', PASSWORD), 401, 'invalid_credentials');

    // The code works once.
    const again = await send(`${server.url}/api/v1/sso/exchange`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) });
    await expectError(again, 400, 'sso_failed');
  });

  it('signs the same user in again: the same account, the display name kept as the provider says', async () => {
    const { jar, callbackUrl } = await throughProvider('sso-alice');
    const res = await callback(jar, callbackUrl);
    expect(res.status).toBe(302);
    const exchanged = await send(`${server.url}/api/v1/sso/exchange`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: codeOf(res) }) });
    expect(exchanged.status).toBe(200);
    const users = (await server.admin.get('/api/v1/admin/users')).body.users.filter((u: any) => u.username === 'sso-alice');
    expect(users).toHaveLength(1);
    expect(exchanged.body.user.id).toBe(users[0].id);
  });

  it('refuses a tampered state', async () => {
    const { jar, callbackUrl } = await throughProvider('sso-bob');
    const url = new URL(callbackUrl);
    url.searchParams.set('state', url.searchParams.get('state')!.slice(0, -2) + 'xx');
    await expectError(await callback(jar, url.href).then(reply), 400, 'sso_failed');
    const users = (await server.admin.get('/api/v1/admin/users')).body.users;
    expect(users.some((u: any) => u.username === 'sso-bob')).toBe(false);
  });

  it('refuses a tampered cookie, another sign-in\'s cookie, and a replayed callback', async () => {
    // Tampered: the sealed state/nonce/verifier does not open.
    const first = await throughProvider('sso-bob');
    const sealed = first.jar.get(server.url, 'portico_sso')!;
    first.jar.set(server.url, 'portico_sso', sealed.slice(0, 20) + (sealed[20] === 'A' ? 'B' : 'A') + sealed.slice(21));
    await expectError(await callback(first.jar, first.callbackUrl).then(reply), 400, 'sso_failed');
    // Another sign-in's cookie (its own state and nonce): the answer does not belong to it.
    const second = await throughProvider('sso-bob');
    const other = await start();
    second.jar.set(server.url, 'portico_sso', other.jar.get(server.url, 'portico_sso')!);
    await expectError(await callback(second.jar, second.callbackUrl).then(reply), 400, 'sso_failed');
    // Replay: the same callback URL with the same cookie, after it succeeded.
    const third = await throughProvider('sso-bob');
    const cookie = third.jar.get(server.url, 'portico_sso')!;
    expect((await callback(third.jar, third.callbackUrl)).status).toBe(302);
    third.jar.set(server.url, 'portico_sso', cookie);
    await expectError(await callback(third.jar, third.callbackUrl).then(reply), 400, 'sso_failed');
  });

  it('sends a browser back to the login page with the reason', async () => {
    const { jar, callbackUrl } = await throughProvider('local-carol');
    const res = await callback(jar, callbackUrl, true);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/app/#sso_error=sso_account_conflict');
  });

  it('never takes over a local account with the same ID', async () => {
    const { jar, callbackUrl } = await throughProvider('local-carol');
    const res = await callback(jar, callbackUrl).then(reply);
    await expectError(res, 409, 'sso_account_conflict');
    expect(res.body.error.message).toContain('local account');
    const carol = (await server.admin.get('/api/v1/admin/users')).body.users.find((u: any) => u.username === 'local-carol');
    expect(carol).toMatchObject({ source: 'local', displayName: 'Carol Local' });
    expect((await login(server, 'local-carol', PASSWORD)).status).toBe(200);
  });

  it('refuses a claim that is not a Portico user ID', async () => {
    const { jar, callbackUrl } = await throughProvider('not a valid id!');
    const res = await callback(jar, callbackUrl).then(reply);
    await expectError(res, 400, 'sso_failed');
    expect(res.body.error.message).toContain('preferred_username');
  });

  it('refuses a one-time code that is forged, and one started with a challenge without its verifier', async () => {
    const post = (body: unknown) => send(`${server.url}/api/v1/sso/exchange`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    await expectError(await post({ code: 'not-a-code' }), 400, 'sso_failed');
    // An installed client's loopback return (RFC 8252) with PKCE between it and Portico.
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const { jar, callbackUrl } = await throughProvider('sso-bob', `?return_to=${encodeURIComponent('http://127.0.0.1:45678/callback')}&challenge=${challenge}`);
    const res = await callback(jar, callbackUrl);
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get('location')!);
    expect(back.origin + back.pathname).toBe('http://127.0.0.1:45678/callback');
    const code = back.searchParams.get('code')!;
    await expectError(await post({ code }), 400, 'sso_failed');
    await expectError(await post({ code, verifier: randomBytes(32).toString('base64url') }), 400, 'sso_failed');
    const ok = await post({ code, verifier });
    expect(ok.status).toBe(200);
    expect(ok.body.user.username).toBe('sso-bob');
    // Only loopback addresses are taken as return_to.
    const bad = await send(`${server.url}/api/v1/sso/start?return_to=${encodeURIComponent('https://evil.example/callback')}`, { redirect: 'manual' });
    await expectError(bad, 400, 'invalid_request');
  });

  it("runs the desktop app's flow: the system browser comes back to a loopback listener, the code is traded with the app's verifier", async () => {
    const result = await loopbackSignIn({
      serverUrl: server.url,
      // The "system browser": Portico's start, the provider's form, the callback, then the loopback.
      open: async (startUrl) => {
        const jar = new CookieJar();
        const res = await jarFetch(jar, startUrl);
        expect(res.status).toBe(302);
        const callbackUrl = await signIn(jar, res.headers.get('location')!, 'sso-bob', callbackPrefix);
        const back = await jarFetch(jar, callbackUrl, { headers: { accept: 'text/html' } });
        expect(back.status).toBe(302);
        const loopback = back.headers.get('location')!;
        expect(loopback).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback\?code=/);
        expect((await fetch(loopback)).status).toBe(200);
      },
    });
    if (!('code' in result)) throw new Error(`came back with ${result.error}`);
    const exchanged = await send(`${server.url}/api/v1/sso/exchange`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(result) });
    expect(exchanged.status).toBe(200);
    expect(exchanged.body.user).toMatchObject({ username: 'sso-bob', displayName: 'Bob Sign-On' });
  });

  it('answers 404 sso_not_configured, and enabled false, without PORTICO_OIDC_ISSUER', async () => {
    const plain = await startTestServer();
    try {
      expect((await send(`${plain.url}/api/v1/sso`, {})).body).toEqual({ enabled: false });
      await expectError(await send(`${plain.url}/api/v1/sso/start`, { redirect: 'manual' }), 404, 'sso_not_configured');
      await expectError(await send(`${plain.url}/api/v1/sso/exchange`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"code":"x"}' }), 404, 'sso_not_configured');
    } finally {
      await plain.destroy();
    }
  });

  it('holds the login limit per address on the SSO endpoints', async () => {
    // The admin's login (startTestServer) takes one of the four: the limit is the password sign-in's own.
    const limited = await startTestServer({ ...settings(idp.issuer), loginPerIpPerMinute: 4 });
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await fetch(`${limited.url}/api/v1/sso/start`, { redirect: 'manual' })).status);
      expect(statuses).toEqual([302, 302, 302, 429]);
      await expectError(await send(`${limited.url}/api/v1/sso/exchange`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"code":"x"}' }), 429, 'rate_limited');
    } finally {
      await limited.destroy();
    }
  });
});

describe('single sign-on: the ID token itself', { timeout: 60_000 }, () => {
  let idp: TestOidcProvider;
  const redirectUri = 'http://127.0.0.1:9/callback';
  const config = (issuer: string) => ServerConfig.parse({ ...settings(issuer), dataDir: '/nonexistent' });

  beforeAll(async () => {
    idp = await listenOidcProvider();
    await idp.start({ redirectUris: [redirectUri], idTokenTtlSeconds: 60 });
  });
  afterAll(() => idp?.close());

  async function answer(client: SsoClient, login: string) {
    const { url, pending } = await client.begin(redirectUri);
    const back = new URL(await signIn(new CookieJar(), url, login, redirectUri));
    return { pending, answer: back.searchParams };
  }

  it('maps the claims of a good sign-in', async () => {
    const client = SsoClient.from(config(idp.issuer))!;
    const { pending, answer: params } = await answer(client, 'sso-alice');
    expect(await client.finish(pending, params)).toEqual({ username: 'sso-alice', displayName: 'Alice Single' });
  });

  it('refuses an ID token whose nonce is not the sign-in\'s', async () => {
    const client = SsoClient.from(config(idp.issuer))!;
    const { pending, answer: params } = await answer(client, 'sso-alice');
    const refused = await client.finish({ ...pending, nonce: 'another-nonce-value' }, params).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SsoRefused);
    expect((refused as Error).message).toMatch(/nonce/i);
    // Replayed: the same answer again (its code is used up at the provider), even with the right nonce.
    await expect(client.finish(pending, params)).rejects.toThrow(SsoRefused);
  });

  it('refuses an expired ID token', async () => {
    // This clock two minutes ahead of the provider's: its 60 s ID token has expired here (beyond openid-client's tolerance).
    const client = new SsoClient({ ...config(idp.issuer), oidcIssuer: idp.issuer, oidcClientId: OIDC_CLIENT_ID }, 60 + 60);
    const { pending, answer: params } = await answer(client, 'sso-alice');
    await expect(client.finish(pending, params)).rejects.toThrow(/expired/i);
    // The same flow without the skew is taken (so the refusal above was the expiry).
    const fresh = SsoClient.from(config(idp.issuer))!;
    const ok = await answer(fresh, 'sso-alice');
    expect((await fresh.finish(ok.pending, ok.answer)).username).toBe('sso-alice');
  });
});

describe('single sign-on: an issuer that cannot be reached', { timeout: 60_000 }, () => {
  it('answers 503 sso_unavailable on start while local login works, and recovers when the issuer is back', async () => {
    const idp = await listenOidcProvider(); // bound but not started: answers 503 to discovery
    const server = await startTestServer(settings(idp.issuer));
    try {
      await expectError(await send(`${server.url}/api/v1/sso/start`, { redirect: 'manual' }), 503, 'sso_unavailable');
      expect((await send(`${server.url}/api/v1/sso`, {})).body).toEqual({ enabled: true, name: 'Example Corp' });
      await server.user('local-dora');
      expect((await login(server, 'local-dora', PASSWORD)).status).toBe(200);
      // Nothing listens there at all: refused connections, still 503.
      await idp.close();
      await expectError(await send(`${server.url}/api/v1/sso/start`, { redirect: 'manual' }), 503, 'sso_unavailable');
      expect((await login(server, 'local-dora', PASSWORD)).status).toBe(200);
    } finally {
      await server.destroy();
    }
  });
});
