/**
 * A real OpenID Connect provider for tests: oidc-provider (v9) on a free loopback port, with one
 * confidential client (PKCE required), a few accounts with claims, and its development
 * interactions (a login form that takes any password for a known account). `signIn` drives that
 * form with fetch and a cookie jar, as a browser would, from the authorization URL to the
 * redirect back to the client.
 *
 * Two steps, because each side must know the other's address: `listenOidcProvider()` binds the
 * port (so the issuer URL is known before Portico starts), `start({ redirectUris })` then makes
 * the provider; until then it answers 503, like an issuer that is down.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export interface TestAccount {
  sub: string;
  claims: Record<string, unknown>;
}

export const OIDC_CLIENT_ID = 'portico-test';
export const OIDC_CLIENT_SECRET = 'portico-test-secret-0123456789abcdef';

export const DEFAULT_ACCOUNTS: TestAccount[] = [
  { sub: 'u-1001', claims: { preferred_username: 'sso-alice', name: 'Alice Single', email: 'alice@example.test' } },
  { sub: 'u-1002', claims: { preferred_username: 'sso-bob', name: 'Bob Sign-On', email: 'bob@example.test' } },
  { sub: 'u-1003', claims: { preferred_username: 'local-carol', name: 'Carol Impostor' } },
  { sub: 'u-1004', claims: { preferred_username: 'not a valid id!', name: 'Dave Spaces' } },
];

export interface OidcStartOptions {
  redirectUris: string[];
  accounts?: TestAccount[];
  /** ID token lifetime in seconds (default 600). */
  idTokenTtlSeconds?: number;
}

export interface TestOidcProvider {
  issuer: string;
  port: number;
  /** Makes the provider (before this it answers 503). */
  start(options: OidcStartOptions): Promise<void>;
  /** Stops answering (connections are refused) and frees the port. */
  close(): Promise<void>;
}

export async function listenOidcProvider(): Promise<TestOidcProvider> {
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server = createServer((req, res) => {
    if (handler) return handler(req, res);
    res.writeHead(503).end('not started');
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${port}`;
  return {
    issuer,
    port,
    async start({ redirectUris, accounts = DEFAULT_ACCOUNTS, idTokenTtlSeconds = 600 }) {
      const bySub = new Map(accounts.map((a) => [a.sub, a]));
      // The dev login form takes the login name; the test accounts are found by it or by sub.
      const byLogin = new Map(accounts.map((a) => [String(a.claims.preferred_username ?? a.sub), a]));
      const provider = new Provider(issuer, {
        clients: [
          {
            client_id: OIDC_CLIENT_ID,
            client_secret: OIDC_CLIENT_SECRET,
            redirect_uris: redirectUris,
            grant_types: ['authorization_code'],
            response_types: ['code'],
            token_endpoint_auth_method: 'client_secret_basic',
          },
        ],
        pkce: { required: () => true },
        ttl: { IdToken: idTokenTtlSeconds, AccessToken: 600, Interaction: 600, Session: 600, Grant: 600, AuthorizationCode: 60 },
        claims: { openid: ['sub'], profile: ['name', 'preferred_username', 'given_name', 'family_name'], email: ['email'] },
        conformIdTokenClaims: false, // the claims in the ID token itself, as Entra ID, Okta and Keycloak do
        cookies: { keys: ['test-cookie-key-0123456789'] },
        features: { devInteractions: { enabled: true } },
        // A first-party client: no consent screen (a grant for what it asks is made at once).
        async loadExistingGrant(ctx: any) {
          const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session!.grantIdFor(ctx.oidc.client!.clientId);
          if (grantId) return ctx.oidc.provider.Grant.find(grantId);
          const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
          grant.addOIDCScope('openid profile email');
          grant.addOIDCClaims(['name', 'preferred_username', 'given_name', 'family_name', 'email']);
          await grant.save();
          return grant;
        },
        async findAccount(_ctx: unknown, id: string) {
          const account = bySub.get(id) ?? byLogin.get(id);
          if (!account) return undefined;
          return { accountId: id, claims: () => ({ ...account.claims, sub: id }) };
        },
      });
      provider.on('server_error', (_ctx: unknown, err: unknown) => console.error('oidc-provider server_error', err));
      handler = provider.callback();
    },
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

/** A tiny cookie jar: name=value per host (paths ignored; the tests' hosts are loopback ports). */
export class CookieJar {
  private readonly jars = new Map<string, Map<string, string>>();
  take(url: string, res: Response) {
    const host = new URL(url).host;
    const jar = this.jars.get(host) ?? new Map<string, string>();
    this.jars.set(host, jar);
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (!value || /max-age=0|expires=thu, 01 jan 1970/i.test(line)) jar.delete(name);
      else jar.set(name, value);
    }
  }
  header(url: string): string {
    return [...(this.jars.get(new URL(url).host) ?? [])].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  set(url: string, name: string, value: string) {
    const host = new URL(url).host;
    const jar = this.jars.get(host) ?? new Map<string, string>();
    this.jars.set(host, jar);
    jar.set(name, value);
  }
  get(url: string, name: string): string | undefined {
    return this.jars.get(new URL(url).host)?.get(name);
  }
}

/** One request with the jar's cookies, no redirect followed. */
export async function jarFetch(jar: CookieJar, url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const cookie = jar.header(url);
  if (cookie) headers.set('cookie', cookie);
  const res = await fetch(url, { ...init, headers, redirect: 'manual' });
  jar.take(url, res);
  return res;
}

/**
 * Signs `login` in at the provider, from its authorization URL: follows its redirects, posts the
 * login form, and answers the URL it finally sends the browser to (the client's redirect URI with
 * code and state), without requesting it.
 */
export async function signIn(jar: CookieJar, authorizationUrl: string, login: string, redirectUriPrefix: string): Promise<string> {
  let url = authorizationUrl;
  for (let step = 0; step < 10; step++) {
    if (url.startsWith(redirectUriPrefix)) return url;
    const res = await jarFetch(jar, url);
    if (res.status >= 300 && res.status < 400) {
      url = new URL(res.headers.get('location')!, url).href;
      continue;
    }
    const html = await res.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    if (res.status !== 200 || !action) throw new Error(`provider answered ${res.status} at ${url}: ${html.slice(0, 300)}`);
    const form = new URLSearchParams({ prompt: 'login', login, password: 'any password' });
    const posted = await jarFetch(jar, new URL(action, url).href, { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    if (posted.status < 300 || posted.status >= 400) throw new Error(`login form answered ${posted.status}: ${(await posted.text()).slice(0, 300)}`);
    url = new URL(posted.headers.get('location')!, action.startsWith('http') ? action : url).href;
  }
  throw new Error('too many steps at the provider');
}
