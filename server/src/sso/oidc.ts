/**
 * Single sign-on with OpenID Connect, through openid-client: the authorization code flow with
 * PKCE (S256), state and nonce. The issuer's discovery document is fetched on first use and kept;
 * while the issuer cannot be reached, each new sign-in tries again (SsoUnavailable meanwhile).
 *
 * What a sign-in must remember between its start and the provider's answer (state, nonce, PKCE
 * verifier) is a `PendingSignIn`; the routes keep it sealed in a short-lived cookie, so any node
 * of a cluster can finish the sign-in.
 */
import { readFileSync } from 'node:fs';
import * as oidc from 'openid-client';
import { DisplayName, LIMITS, Username } from '../../../shared/index.js';
import type { ServerConfig } from '../config.js';

/** The provider cannot be reached (discovery, token exchange): not the user's fault. */
export class SsoUnavailable extends Error {}
/** The provider's answer is refused: wrong state or nonce, an invalid or expired ID token, an error from the provider. */
export class SsoRefused extends Error {}

export interface PendingSignIn {
  state: string;
  nonce: string;
  verifier: string;
  /** The redirect URI this sign-in was started with (the token request repeats it). */
  redirectUri: string;
  /** Epoch ms after which the answer is no longer taken. */
  expiresAt: number;
}

/** Who signed in, as the ID token says. */
export interface SsoIdentity {
  username: string;
  displayName: string;
}

export type SsoSettings = Pick<
  ServerConfig,
  'oidcIssuer' | 'oidcClientId' | 'oidcClientSecret' | 'oidcClientSecretFile' | 'oidcName' | 'oidcUsernameClaim' | 'oidcUsernameDomain' | 'oidcScopes' | 'oidcAllowHttp' | 'oidcTimeoutMs'
>;

/** How long a started sign-in may take at the provider (the user types a password, maybe a second factor). */
export const PENDING_MS = 10 * 60_000;

/** True for an error that means the provider did not answer (refused, reset, timed out, DNS). */
function unreachable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e.name === 'TimeoutError' || e.name === 'AbortError' || (e instanceof TypeError && /fetch failed/i.test(e.message))) return true;
    if ('code' in e && typeof e.code === 'string' && /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|UND_ERR_\w+)$/.test(e.code)) return true;
  }
  return false;
}

/** The `code`s along an error's cause chain (openid-client wraps oauth4webapi's errors). */
function codes(error: unknown): string[] {
  const found: string[] = [];
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') found.push(code);
  }
  return found;
}

/** ' (claim nonce)' when a check of one ID token claim failed (oauth4webapi names it in the cause). */
function claimOf(error: unknown): string {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const claim = (e as { claim?: unknown }).claim;
    if (typeof claim === 'string' && /^\w{1,40}$/.test(claim)) return ` (claim ${claim})`;
  }
  return '';
}

/** The Portico user ID in a claim value, or undefined if it cannot be one. */
export function usernameFromClaim(value: unknown, domain: string | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  let name = value.trim();
  if (domain) {
    // e.g. Entra ID's preferred_username alice@contoso.com: only the configured domain's accounts, without it.
    const at = name.lastIndexOf('@');
    if (at < 0 || name.slice(at + 1).toLowerCase() !== domain.toLowerCase()) return undefined;
    name = name.slice(0, at);
  }
  return Username.safeParse(name).success ? name : undefined;
}

/** The display name from the ID token's claims: name, else given and family name, else the user ID. */
export function displayNameFromClaims(claims: Record<string, unknown>, username: string): string {
  const text = (v: unknown) => (typeof v === 'string' ? v.trim() : '');
  const made = text(claims.name) || [text(claims.given_name), text(claims.family_name)].filter(Boolean).join(' ') || username;
  const cut = [...made].slice(0, LIMITS.displayNameChars).join('');
  return DisplayName.safeParse(cut).success ? cut : username;
}

export class SsoClient {
  private discovered: Promise<oidc.Configuration> | undefined;
  private readonly secret: string | undefined;
  /**
   * `clockSkewSeconds`: seconds this clock is moved when the ID token's times are checked
   * (openid-client's clockSkew); tests use it to see an expired ID token refused.
   */
  constructor(
    readonly settings: SsoSettings & { oidcIssuer: string; oidcClientId: string },
    private readonly clockSkewSeconds = 0,
  ) {
    this.secret = settings.oidcClientSecretFile ? readFileSync(settings.oidcClientSecretFile, 'utf8').replace(/\r?\n$/, '') : settings.oidcClientSecret;
  }

  /** Built from the configuration when single sign-on is configured (reads the secret file: it may throw). */
  static from(config: ServerConfig): SsoClient | undefined {
    const { oidcIssuer, oidcClientId } = config;
    return oidcIssuer && oidcClientId ? new SsoClient({ ...config, oidcIssuer, oidcClientId }) : undefined;
  }

  get name(): string {
    return this.settings.oidcName;
  }

  /** The issuer's configuration, discovered once; a failed discovery is forgotten, so the next sign-in tries again. */
  configuration(): Promise<oidc.Configuration> {
    this.discovered ??= this.discover().catch((error: unknown) => {
      this.discovered = undefined;
      throw error;
    });
    return this.discovered;
  }

  private async discover(): Promise<oidc.Configuration> {
    const timeout = Math.ceil(this.settings.oidcTimeoutMs / 1000);
    try {
      const config = await oidc.discovery(
        new URL(this.settings.oidcIssuer),
        this.settings.oidcClientId,
        this.clockSkewSeconds ? { [oidc.clockSkew]: this.clockSkewSeconds } : undefined,
        this.secret ? oidc.ClientSecretBasic(this.secret) : oidc.None(),
        { timeout, ...(this.settings.oidcAllowHttp ? { execute: [oidc.allowInsecureRequests] } : {}) },
      );
      config.timeout = timeout;
      return config;
    } catch (error) {
      throw new SsoUnavailable(`cannot read the OpenID Connect discovery document of ${this.settings.oidcIssuer}: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Starts a sign-in: the provider's authorization URL, and what to remember until it answers. */
  async begin(redirectUri: string): Promise<{ url: string; pending: PendingSignIn }> {
    const config = await this.configuration();
    const pending: PendingSignIn = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      verifier: oidc.randomPKCECodeVerifier(),
      redirectUri,
      expiresAt: Date.now() + PENDING_MS,
    };
    const scopes = new Set(['openid', ...this.settings.oidcScopes.split(' ')]);
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: [...scopes].join(' '),
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.verifier),
      code_challenge_method: 'S256',
    });
    return { url: url.href, pending };
  }

  /**
   * Finishes a sign-in with the provider's answer (the callback's query): checks state, exchanges
   * the code with the PKCE verifier, checks the ID token (signature, issuer, audience, expiry,
   * nonce), and maps its claims. SsoRefused for anything wrong, SsoUnavailable if the provider
   * does not answer.
   */
  async finish(pending: PendingSignIn, answer: URLSearchParams): Promise<SsoIdentity> {
    if (Date.now() > pending.expiresAt) throw new SsoRefused('this sign-in took too long; start again');
    const config = await this.configuration();
    const currentUrl = new URL(pending.redirectUri);
    currentUrl.search = answer.toString();
    let claims: Record<string, unknown> | undefined;
    try {
      const tokens = await oidc.authorizationCodeGrant(
        config,
        currentUrl,
        { pkceCodeVerifier: pending.verifier, expectedState: pending.state, expectedNonce: pending.nonce, idTokenExpected: true },
        { redirect_uri: pending.redirectUri },
      );
      claims = tokens.claims();
      if (claims && (claims[this.settings.oidcUsernameClaim] === undefined || claims.name === undefined) && config.serverMetadata().userinfo_endpoint) {
        // Some providers put profile claims only in userinfo when an access token is issued (OIDC Core 5.4).
        const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub as string).catch((error: unknown) => {
          if (unreachable(error)) throw error;
          return {}; // userinfo refused: the ID token's claims are what there is
        });
        claims = { ...info, ...claims };
      }
    } catch (error) {
      if (unreachable(error)) throw new SsoUnavailable(`the OpenID Connect provider did not answer: ${(error as Error).message}`, { cause: error });
      const e = error as Error & { error?: string; error_description?: string };
      const why = codes(error).includes('OAUTH_JWT_TIMESTAMP_CHECK_FAILED')
        ? "the ID token has expired or is not valid yet (check that this server's clock is right)"
        : (e.error_description ?? e.error ?? e.message) + claimOf(error);
      throw new SsoRefused(`the sign-in was refused: ${why}`, { cause: error });
    }
    if (!claims) throw new SsoRefused('the provider sent no ID token');
    const claim = this.settings.oidcUsernameClaim;
    const username = usernameFromClaim(claims[claim], this.settings.oidcUsernameDomain);
    if (!username) {
      const domain = this.settings.oidcUsernameDomain;
      throw new SsoRefused(
        `the ID token's ${claim} claim (${JSON.stringify(claims[claim] ?? null).slice(0, 80)}) is not a Portico user ID${domain ? ` at ${domain}` : ''}: 2-${LIMITS.usernameChars} letters, digits, dot, dash, underscore`,
      );
    }
    return { username, displayName: displayNameFromClaims(claims, username) };
  }
}
