/**
 * Server configuration: defaults, then environment (PORTICO_*), then command-line flags.
 * Validated once at start; a bad value stops the server with a message naming it.
 */
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { z } from 'zod';

/** An IP address, or a CIDR range (`10.0.0.0/8`, `fd00::/8`). */
const isAddressOrRange = (entry: string) => {
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (!family || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
};

/**
 * Which X-Forwarded-For entries to believe: false (none), a number of proxy hops in front (true is
 * 1: take the address the nearest proxy saw, the rightmost entry), or the trusted proxies' addresses
 * (the client is the rightmost address that is not one of them).
 */
const TrustProxy = z
  .union([z.boolean(), z.number(), z.string(), z.array(z.string())])
  .transform((v, ctx): false | number | string[] => {
    if (v === false || v === 'false' || v === '0' || v === 0) return false;
    if (v === true || v === 'true') return 1;
    if (typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v.trim()))) {
      const hops = Number(v);
      if (Number.isInteger(hops) && hops >= 1 && hops <= 20) return hops;
      ctx.addIssue({ code: 'custom', message: 'a number of proxy hops must be a whole number from 1 to 20' });
      return z.NEVER;
    }
    const entries = (Array.isArray(v) ? v : v.split(',')).map((e) => e.trim()).filter(Boolean);
    const bad = entries.filter((e) => !isAddressOrRange(e));
    if (entries.length === 0 || bad.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message: `use true, false, a number of proxy hops, or a comma-separated list of proxy addresses or CIDR ranges${bad.length ? ` (not an address: ${bad.join(', ')})` : ''}`,
      });
      return z.NEVER;
    }
    return entries;
  });

/** A comma-separated list (or array) of ICE server URLs with one of these schemes. */
function iceUrls(schemes: string[]) {
  return z
    .union([z.array(z.string()), z.string()])
    .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((u) => u.trim()).filter(Boolean))
    .pipe(z.array(z.string().max(500).regex(new RegExp(`^(${schemes.join('|')}):[^\\s]+$`), `must start with ${schemes.join(': or ')}:`)).max(10))
    .default([]);
}

const Flag = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0'])])
  .transform((v) => v === true || v === 'true' || v === '1');

/** An LDAP search filter: in parentheses, balanced (the directory checks the rest). */
const LdapFilter = z
  .string()
  .trim()
  .refine((f) => /^\(.*\)$/s.test(f) && [...f].reduce((depth, c) => (depth < 0 ? depth : depth + (c === '(' ? 1 : c === ')' ? -1 : 0)), 0) === 0, 'an LDAP filter in parentheses, e.g. (objectClass=person)');

export const ServerConfig = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.coerce.number().int().min(0).max(65535).default(8080),
  dataDir: z.string().min(1).default('./data'),
  /** Password of the `admin` user created on the first start of an empty data directory. */
  adminPassword: z.string().min(8, 'must have at least 8 characters').optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** How long a client counts as connected after its last poll ended (ms). */
  presenceGraceMs: z.coerce.number().int().min(50).max(600_000).default(20_000),
  /** How often the presence sweeper looks for clients that stopped polling (ms). */
  sweepIntervalMs: z.coerce.number().int().min(10).max(60_000).default(1000),
  /** How often to look for changes made by the admin command line (ms). */
  externalSyncMs: z.coerce.number().int().min(10).max(60_000).default(1000),
  eventRetentionDays: z.coerce.number().min(1).max(3650).default(30),
  sessionDays: z.coerce.number().min(1).max(365).default(30),
  loginPerIpPerMinute: z.coerce.number().int().min(1).default(60),
  /** Meeting knocks per address per minute (guessing numbers is slowed to this). */
  knocksPerMinute: z.coerce.number().int().min(1).default(20),
  /** Failed logins per account and address in 15 minutes (a success clears them). */
  loginFailuresPerUser: z.coerce.number().int().min(1).default(10),
  /**
   * Disk a content provider may fill with live media and games (bytes; each content counted once,
   * a game as its archive plus its unpacked files); 0 = no quota. Takes suffixes: 500M, 2G, 2GiB.
   */
  mediaQuotaBytes: z
    .union([z.number(), z.string().regex(/^\d+(\.\d+)?\s*([kmgt](i?b)?)?$/i, 'bytes, or a size like 500M or 2GiB')])
    .transform((v) => {
      if (typeof v === 'number') return v;
      const [, n = '0', unit = ''] = /^(\d+(?:\.\d+)?)\s*([kmgt]?)/i.exec(v.trim())!;
      return Math.floor(Number(n) * 1024 ** ' kmgt'.indexOf(unit.toLowerCase() || ' '));
    })
    .pipe(z.number().int().min(0))
    .default(2 * 2 ** 30),
  /** Largest file a user may send in a chat (MiB). */
  chatFileMb: z.coerce.number().int().min(1).max(1_000_000).default(100),
  /** How often expired media and games are deleted from disk (ms). */
  mediaSweepMs: z.coerce.number().int().min(10).max(86_400_000).default(10 * 60_000),
  /** Failed logins per account in an hour from addresses it has not logged in from lately. */
  loginFailuresPerAccount: z.coerce.number().int().min(1).default(100),
  /** Pushes a content provider may make per minute. */
  providerRequestsPerMinute: z.coerce.number().int().min(1).default(120),
  /** Failed provider authentications (unknown key or name, bad signature, replay) one client address may make per minute. */
  providerFailuresPerIpPerMinute: z.coerce.number().int().min(1).default(60),
  /** File uploads one provider (or, for signed ones not yet verified, one address) may have in progress at once. */
  providerConcurrentUploads: z.coerce.number().int().min(1).default(4),
  /** Bytes all uploads in progress may hold in <dataDir>/tmp together (each reserves its Content-Length, or the route's largest file). */
  uploadSpoolBytes: z.coerce.number().int().min(1024).default(2 * 1024 ** 3),
  /** A file upload must bring at least this many bytes a second, measured over every uploadRateWindowMs. */
  uploadMinBytesPerSecond: z.coerce.number().int().min(1).default(4096),
  uploadRateWindowMs: z.coerce.number().int().min(100).max(600_000).default(30_000),
  /** A form or JSON push, and a multipart push up to its file, must arrive within this (ms). */
  providerBodyDeadlineMs: z.coerce.number().int().min(100).max(600_000).default(20_000),
  /** Behind a reverse proxy: which X-Forwarded-For entries to believe (see TrustProxy). */
  trustProxy: TrustProxy.default(false),
  /** redis://[:password@]host:port[/db]: the nodes of a cluster count rate limits and used signatures together. */
  redisUrl: z.string().regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL').optional(),
  /** PostgreSQL for several nodes (issue 15); without it, SQLite in the data directory. */
  databaseUrl: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// or postgresql:// URL').optional(),
  /** Seat cap: how many terminals (installed clients) may be registered; unset = unlimited. */
  seats: z.coerce.number().int().min(0).optional(),
  /** Serve client updates at /updates/ (false: /updates answers 404). */
  updatesEnabled: z
    .union([z.boolean(), z.enum(['true', 'false', '1', '0'])])
    .transform((v) => v === true || v === 'true' || v === '1')
    .default(true),
  /** HTTPS: on, off, or auto (unset: on when <dataDir>/tls/server.crt exists or tlsCert/tlsKey are given). */
  tls: z
    .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'auto'])])
    .transform((v) => (v === 'auto' ? undefined : v === true || v === 'true' || v === '1'))
    .optional(),
  /** An admin-supplied PEM certificate (chain) and its key, instead of the data directory's. */
  tlsCert: z.string().min(1).optional(),
  tlsKey: z.string().min(1).optional(),
  /** HTTPS port when TLS is on (default 443). */
  httpsPort: z.coerce.number().int().min(0).max(65535).optional(),
  /** With TLS: a plain-HTTP port (usually 80) that only redirects to HTTPS. */
  httpRedirectPort: z.coerce.number().int().min(0).max(65535).optional(),
  /** Calls: STUN and TURN servers handed to clients (comma-separated URLs). */
  stunUrls: iceUrls(['stun', 'stuns']),
  turnUrls: iceUrls(['turn', 'turns']),
  /** The TURN server's shared secret (coturn `static-auth-secret`): TURN credentials are made with it. */
  turnSecret: z.string().min(16, 'use at least 16 characters').optional(),
  /** How long handed-out TURN credentials work (seconds). */
  turnTtlSeconds: z.coerce.number().int().min(60).max(7 * 86400).default(3600),
  /** Media path clients use: try all in order (auto), relay-only TURN (turn), or the HTTP relay (http). */
  callPath: z.enum(['auto', 'turn', 'http']).default('auto'),
  /** A call nobody answers is missed after this long (seconds). */
  callRingSeconds: z.coerce.number().min(0.1).max(600).default(60),
  /** Company directory (issue 21, docs/deployment.md): ldaps://host[:port], or ldap://host[:port] with StartTLS. */
  ldapUrl: z.string().regex(/^ldaps?:\/\/[^\s/]+\/?$/i, 'ldaps://host[:port] or ldap://host[:port]').optional(),
  /** The account Portico searches the directory with, and the file holding its password. */
  ldapBindDn: z.string().min(1).optional(),
  ldapBindPasswordFile: z.string().min(1).optional(),
  /** Where the users are, e.g. ou=people,dc=example,dc=com (the whole subtree is searched). */
  ldapUserBase: z.string().min(1).optional(),
  /** Finds one user by the ID typed at sign-in: {username} is replaced by it, escaped (RFC 4515). */
  ldapUserFilter: LdapFilter.refine((f) => f.includes('{username}'), 'must contain {username}').default('(&(objectClass=person)(uid={username}))'),
  /** The attribute holding the Portico user ID (default: the one the user filter compares with {username}). */
  ldapUsernameAttribute: z.string().regex(/^[A-Za-z][A-Za-z0-9-]*$/, 'an attribute name').optional(),
  /** Users who may sign in match it too; the others count as disabled. AD: (!(userAccountControl:1.2.840.113556.1.4.803:=2)) */
  ldapEnabledFilter: LdapFilter.default('(!(pwdAccountLockedTime=*))'),
  /** Directory groups that become Portico groups: where, which (unset: no groups are synced), who is in them. */
  ldapGroupBase: z.string().min(1).optional(),
  ldapGroupFilter: LdapFilter.optional(),
  ldapGroupMemberAttribute: z.string().regex(/^[A-Za-z][A-Za-z0-9-]*$/, 'an attribute name').default('member'),
  ldapGroupNameAttribute: z.string().regex(/^[A-Za-z][A-Za-z0-9-]*$/, 'an attribute name').default('cn'),
  /** How often the running server syncs the directory (minutes; 0: only `portico directory sync`). */
  ldapSyncMinutes: z.coerce.number().min(0).max(10_080).default(15),
  /** PEM CA certificate(s) the directory's TLS certificate must chain to (default: the system's). */
  ldapCaFile: z.string().min(1).optional(),
  /** Allow ldap:// without StartTLS (passwords in clear): for tests on loopback only. */
  ldapAllowPlain: Flag.default(false),
  /** How long a directory request (connect, bind, search) may take before it counts as unreachable (ms). */
  ldapTimeoutMs: z.coerce.number().int().min(100).max(120_000).default(5000),
  /** Single sign-on (issue 21, docs/deployment.md): the OpenID Connect issuer URL (its discovery document is <issuer>/.well-known/openid-configuration). */
  oidcIssuer: z.url({ protocol: /^https?$/ }).optional(),
  /** The client Portico is registered as at the provider, and its secret (a file, or the value; unset: a public client, PKCE only). */
  oidcClientId: z.string().min(1).max(500).optional(),
  oidcClientSecretFile: z.string().min(1).optional(),
  oidcClientSecret: z.string().min(1).optional(),
  /** The company name the login page shows: "Sign in with <name>". */
  oidcName: z.string().trim().min(1).max(60).default('SSO'),
  /** The ID token claim that is the Portico user ID; it must pass Portico's user ID rules. */
  oidcUsernameClaim: z.string().regex(/^[A-Za-z0-9_:.\/-]{1,100}$/, 'a claim name, e.g. preferred_username').default('preferred_username'),
  /** With a claim like alice@contoso.com (Entra ID's preferred_username): the domain taken off it; other domains cannot sign in. */
  oidcUsernameDomain: z.string().regex(/^[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/, 'a domain, e.g. contoso.com').optional(),
  /** The redirect URI registered at the provider (default: <the address the browser used>/api/v1/sso/callback). */
  oidcRedirectUri: z.url({ protocol: /^https?$/ }).optional(),
  /** Scopes asked for (space-separated; openid is always asked). */
  oidcScopes: z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/, 'space-separated scope names').default('openid profile email'),
  /** Allow an http:// issuer (tokens in clear): for tests on loopback only. */
  oidcAllowHttp: Flag.default(false),
  /** How long the provider may take to answer (discovery, token exchange) before it counts as unreachable (ms). */
  oidcTimeoutMs: z.coerce.number().int().min(100).max(120_000).default(5000),
}).superRefine((c, ctx) => {
  if (c.oidcIssuer) {
    if (!c.oidcClientId) ctx.addIssue({ code: 'custom', path: ['oidcClientId'], message: 'required with PORTICO_OIDC_ISSUER (the client ID registered at the provider)' });
    if (c.oidcClientSecret && c.oidcClientSecretFile) ctx.addIssue({ code: 'custom', path: ['oidcClientSecret'], message: 'give PORTICO_OIDC_CLIENT_SECRET_FILE or PORTICO_OIDC_CLIENT_SECRET, not both' });
    if (c.oidcIssuer.startsWith('http:') && !c.oidcAllowHttp) ctx.addIssue({ code: 'custom', path: ['oidcIssuer'], message: 'must be https:// (PORTICO_OIDC_ALLOW_HTTP=true allows http:// for tests on loopback)' });
  }
  if (c.ldapUrl) {
    if (!c.ldapUserBase) ctx.addIssue({ code: 'custom', path: ['ldapUserBase'], message: 'required with PORTICO_LDAP_URL (where the users are, e.g. ou=people,dc=example,dc=com)' });
    if (c.ldapBindDn && !c.ldapBindPasswordFile) ctx.addIssue({ code: 'custom', path: ['ldapBindPasswordFile'], message: 'required with PORTICO_LDAP_BIND_DN (a file holding its password)' });
  }
  if (c.turnUrls.length > 0 && !c.turnSecret) {
    ctx.addIssue({ code: 'custom', path: ['turnSecret'], message: 'required when TURN URLs are set (the same value as coturn static-auth-secret)' });
  }
});
export type ServerConfig = z.output<typeof ServerConfig>;
export type ServerConfigInput = z.input<typeof ServerConfig>;

const ENV: Record<string, keyof ServerConfig> = {
  PORTICO_HOST: 'host',
  PORTICO_PORT: 'port',
  PORTICO_DATA_DIR: 'dataDir',
  PORTICO_ADMIN_PASSWORD: 'adminPassword',
  PORTICO_LOG_LEVEL: 'logLevel',
  PORTICO_PRESENCE_GRACE_MS: 'presenceGraceMs',
  PORTICO_EVENT_RETENTION_DAYS: 'eventRetentionDays',
  PORTICO_SESSION_DAYS: 'sessionDays',
  PORTICO_TRUST_PROXY: 'trustProxy',
  PORTICO_REDIS_URL: 'redisUrl',
  PORTICO_DATABASE_URL: 'databaseUrl',
  PORTICO_LOGIN_PER_IP_PER_MINUTE: 'loginPerIpPerMinute',
  PORTICO_KNOCKS_PER_MINUTE: 'knocksPerMinute',
  PORTICO_LOGIN_FAILURES_PER_ADDRESS: 'loginFailuresPerUser',
  PORTICO_LOGIN_FAILURES_PER_ACCOUNT: 'loginFailuresPerAccount',
  PORTICO_PROVIDER_RATE: 'providerRequestsPerMinute',
  PORTICO_MEDIA_QUOTA: 'mediaQuotaBytes',
  PORTICO_CHAT_FILE_MB: 'chatFileMb',
  PORTICO_PROVIDER_FAILURE_RATE: 'providerFailuresPerIpPerMinute',
  PORTICO_PROVIDER_UPLOADS: 'providerConcurrentUploads',
  PORTICO_UPLOAD_SPOOL_BYTES: 'uploadSpoolBytes',
  PORTICO_UPLOAD_MIN_RATE: 'uploadMinBytesPerSecond',
  PORTICO_UPLOAD_RATE_WINDOW_MS: 'uploadRateWindowMs',
  PORTICO_PROVIDER_BODY_DEADLINE_MS: 'providerBodyDeadlineMs',
  PORTICO_SEATS: 'seats',
  PORTICO_UPDATES_ENABLED: 'updatesEnabled',
  PORTICO_TLS: 'tls',
  PORTICO_TLS_CERT: 'tlsCert',
  PORTICO_TLS_KEY: 'tlsKey',
  PORTICO_HTTPS_PORT: 'httpsPort',
  PORTICO_HTTP_REDIRECT_PORT: 'httpRedirectPort',
  PORTICO_STUN_URLS: 'stunUrls',
  PORTICO_TURN_URLS: 'turnUrls',
  PORTICO_TURN_SECRET: 'turnSecret',
  PORTICO_TURN_TTL: 'turnTtlSeconds',
  PORTICO_CALL_PATH: 'callPath',
  PORTICO_CALL_RING_SECONDS: 'callRingSeconds',
  PORTICO_LDAP_URL: 'ldapUrl',
  PORTICO_LDAP_BIND_DN: 'ldapBindDn',
  PORTICO_LDAP_BIND_PASSWORD_FILE: 'ldapBindPasswordFile',
  PORTICO_LDAP_USER_BASE: 'ldapUserBase',
  PORTICO_LDAP_USER_FILTER: 'ldapUserFilter',
  PORTICO_LDAP_USERNAME_ATTRIBUTE: 'ldapUsernameAttribute',
  PORTICO_LDAP_ENABLED_FILTER: 'ldapEnabledFilter',
  PORTICO_LDAP_GROUP_BASE: 'ldapGroupBase',
  PORTICO_LDAP_GROUP_FILTER: 'ldapGroupFilter',
  PORTICO_LDAP_GROUP_MEMBER_ATTRIBUTE: 'ldapGroupMemberAttribute',
  PORTICO_LDAP_GROUP_NAME_ATTRIBUTE: 'ldapGroupNameAttribute',
  PORTICO_LDAP_SYNC_MINUTES: 'ldapSyncMinutes',
  PORTICO_LDAP_CA_FILE: 'ldapCaFile',
  PORTICO_LDAP_ALLOW_PLAIN: 'ldapAllowPlain',
  PORTICO_LDAP_TIMEOUT_MS: 'ldapTimeoutMs',
  PORTICO_OIDC_ISSUER: 'oidcIssuer',
  PORTICO_OIDC_CLIENT_ID: 'oidcClientId',
  PORTICO_OIDC_CLIENT_SECRET_FILE: 'oidcClientSecretFile',
  PORTICO_OIDC_CLIENT_SECRET: 'oidcClientSecret',
  PORTICO_OIDC_NAME: 'oidcName',
  PORTICO_OIDC_USERNAME_CLAIM: 'oidcUsernameClaim',
  PORTICO_OIDC_USERNAME_DOMAIN: 'oidcUsernameDomain',
  PORTICO_OIDC_REDIRECT_URI: 'oidcRedirectUri',
  PORTICO_OIDC_SCOPES: 'oidcScopes',
  PORTICO_OIDC_ALLOW_HTTP: 'oidcAllowHttp',
  PORTICO_OIDC_TIMEOUT_MS: 'oidcTimeoutMs',
};

export class ConfigError extends Error {}

/** Merges environment and flags over the defaults; throws ConfigError naming every bad setting. */
/** The SQLite database of a data directory. */
export const databaseFile = (dataDir: string) => join(resolve(dataDir), 'portico.db');

export function loadConfig(env: NodeJS.ProcessEnv, flags: Partial<Record<keyof ServerConfig, unknown>> = {}): ServerConfig {
  const raw: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(ENV)) {
    const value = env[name]?.trim();
    if (value) raw[key] = value; // blank counts as unset, not as 0
  }
  for (const [key, value] of Object.entries(flags)) if (value !== undefined) raw[key] = value;
  const parsed = ServerConfig.safeParse(raw);
  if (!parsed.success) {
    const envName = (key: string) => Object.entries(ENV).find(([, k]) => k === key)?.[0] ?? key;
    throw new ConfigError(
      'bad configuration:\n' + parsed.error.issues.map((i) => `  ${envName(String(i.path[0]))}: ${i.message}`).join('\n'),
    );
  }
  return parsed.data;
}
