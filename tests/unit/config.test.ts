import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/src/config.js';

/** Runs loadConfig expecting a ConfigError; answers its message. */
function configError(env: NodeJS.ProcessEnv, flags: Parameters<typeof loadConfig>[1] = {}): string {
  try {
    loadConfig(env, flags);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error(`no ConfigError for ${JSON.stringify({ env, flags })}`);
}

describe('loadConfig', () => {
  it('has the documented defaults with an empty environment', () => {
    expect(loadConfig({})).toEqual({
      host: '127.0.0.1',
      port: 8080,
      dataDir: './data',
      logLevel: 'info',
      presenceGraceMs: 20_000,
      sweepIntervalMs: 1000,
      externalSyncMs: 1000,
      eventRetentionDays: 30,
      sessionDays: 30,
      loginPerIpPerMinute: 60,
      knocksPerMinute: 20,
      loginFailuresPerUser: 10,
      loginFailuresPerAccount: 100,
      providerRequestsPerMinute: 120,
      mediaQuotaBytes: 2 * 2 ** 30,
      chatFileMb: 100,
      mediaSweepMs: 600_000,
      providerFailuresPerIpPerMinute: 60,
      providerConcurrentUploads: 4,
      uploadSpoolBytes: 2 * 1024 ** 3,
      uploadMinBytesPerSecond: 4096,
      uploadRateWindowMs: 30_000,
      providerBodyDeadlineMs: 20_000,
      trustProxy: false,
      updatesEnabled: true,
      stunUrls: [],
      turnUrls: [],
      turnTtlSeconds: 3600,
      callPath: 'auto',
      callRingSeconds: 60,
      ldapUserFilter: '(&(objectClass=person)(uid={username}))',
      ldapEnabledFilter: '(!(pwdAccountLockedTime=*))',
      ldapGroupMemberAttribute: 'member',
      ldapGroupNameAttribute: 'cn',
      ldapSyncMinutes: 15,
      ldapAllowPlain: false,
      ldapTimeoutMs: 5000,
      oidcName: 'SSO',
      oidcUsernameClaim: 'preferred_username',
      oidcScopes: 'openid profile email',
      oidcAllowHttp: false,
      oidcTimeoutMs: 5000,
    });
  });

  it('takes single sign-on settings, and names what is missing or wrong', () => {
    const env = { PORTICO_OIDC_ISSUER: 'https://login.microsoftonline.com/tenant/v2.0', PORTICO_OIDC_CLIENT_ID: 'abc', PORTICO_OIDC_NAME: 'Contoso', PORTICO_OIDC_USERNAME_DOMAIN: 'contoso.com' };
    expect(loadConfig(env)).toMatchObject({ oidcIssuer: 'https://login.microsoftonline.com/tenant/v2.0', oidcClientId: 'abc', oidcName: 'Contoso', oidcUsernameDomain: 'contoso.com' });
    expect(() => loadConfig({ PORTICO_OIDC_ISSUER: 'https://idp.example.com' })).toThrow(/PORTICO_OIDC_CLIENT_ID/);
    expect(() => loadConfig({ PORTICO_OIDC_ISSUER: 'http://idp.example.com', PORTICO_OIDC_CLIENT_ID: 'abc' })).toThrow(/PORTICO_OIDC_ISSUER: must be https/);
    expect(() => loadConfig({ ...env, PORTICO_OIDC_CLIENT_SECRET: 's', PORTICO_OIDC_CLIENT_SECRET_FILE: '/f' })).toThrow(/not both/);
    expect(() => loadConfig({ ...env, PORTICO_OIDC_ISSUER: 'ftp://idp.example.com' })).toThrow(/PORTICO_OIDC_ISSUER/);
    expect(() => loadConfig({ ...env, PORTICO_OIDC_SCOPES: 'openid "profile"' })).toThrow(/PORTICO_OIDC_SCOPES/);
  });

  it('reads the directory settings: LDAP URL, user base required with it, filters checked, plain only when allowed', () => {
    const env = { PORTICO_LDAP_URL: 'ldaps://dc1.corp.example.com', PORTICO_LDAP_USER_BASE: 'dc=corp,dc=example,dc=com' };
    expect(loadConfig(env)).toMatchObject({ ldapUrl: 'ldaps://dc1.corp.example.com', ldapUserBase: 'dc=corp,dc=example,dc=com', ldapAllowPlain: false });
    expect(() => loadConfig({ PORTICO_LDAP_URL: 'ldaps://dc1' })).toThrow(/PORTICO_LDAP_USER_BASE/);
    expect(() => loadConfig({ ...env, PORTICO_LDAP_URL: 'https://dc1' })).toThrow(/PORTICO_LDAP_URL/);
    expect(() => loadConfig({ ...env, PORTICO_LDAP_BIND_DN: 'cn=svc' })).toThrow(/PORTICO_LDAP_BIND_PASSWORD_FILE/);
    expect(() => loadConfig({ ...env, PORTICO_LDAP_USER_FILTER: '(uid=alice)' })).toThrow(/PORTICO_LDAP_USER_FILTER/);
    expect(() => loadConfig({ ...env, PORTICO_LDAP_ENABLED_FILTER: '(!(x=1)' })).toThrow(/PORTICO_LDAP_ENABLED_FILTER/);
    expect(loadConfig({ ...env, PORTICO_LDAP_USER_FILTER: '(&(objectClass=user)(sAMAccountName={username}))', PORTICO_LDAP_ALLOW_PLAIN: 'true' })).toMatchObject({
      ldapUserFilter: '(&(objectClass=user)(sAMAccountName={username}))',
      ldapAllowPlain: true,
    });
  });

  it('PORTICO_CHAT_FILE_MB sets the largest chat file in MiB; 0 or a non-number is refused', () => {
    expect(loadConfig({ PORTICO_CHAT_FILE_MB: '250' }).chatFileMb).toBe(250);
    for (const bad of ['0', 'lots', '-5']) expect(() => loadConfig({ PORTICO_CHAT_FILE_MB: bad }), bad).toThrow(/PORTICO_CHAT_FILE_MB/);
  });

  it('reads the media quota as bytes or with a binary unit; 0 turns it off; anything else names PORTICO_MEDIA_QUOTA', () => {
    for (const [value, bytes] of [['12345', 12345], ['500M', 500 * 2 ** 20], ['2G', 2 * 2 ** 30], ['2GiB', 2 * 2 ** 30], ['1.5k', 1536], ['0', 0]] as const) {
      expect(loadConfig({ PORTICO_MEDIA_QUOTA: value }).mediaQuotaBytes, value).toBe(bytes);
    }
    for (const value of ['lots', '-1', '2X']) expect(() => loadConfig({ PORTICO_MEDIA_QUOTA: value }), value).toThrow(/PORTICO_MEDIA_QUOTA/);
  });

  it('reads the call settings: STUN/TURN URL lists, the TURN secret (required with TURN URLs), TTL, path, ring time', () => {
    const config = loadConfig({
      PORTICO_STUN_URLS: 'stun:stun.example.com:3478',
      PORTICO_TURN_URLS: 'turns:turn.example.com:443?transport=tcp, turn:turn.example.com:3478',
      PORTICO_TURN_SECRET: 'a-long-shared-secret',
      PORTICO_TURN_TTL: '600',
      PORTICO_CALL_PATH: 'turn',
      PORTICO_CALL_RING_SECONDS: '30',
    });
    expect(config).toMatchObject({
      stunUrls: ['stun:stun.example.com:3478'],
      turnUrls: ['turns:turn.example.com:443?transport=tcp', 'turn:turn.example.com:3478'],
      turnSecret: 'a-long-shared-secret',
      turnTtlSeconds: 600,
      callPath: 'turn',
      callRingSeconds: 30,
    });
    expect(() => loadConfig({ PORTICO_TURN_URLS: 'turns:turn.example.com:443' })).toThrow(/PORTICO_TURN_SECRET/);
    expect(() => loadConfig({ PORTICO_TURN_URLS: 'https://turn.example.com', PORTICO_TURN_SECRET: 'a-long-shared-secret' })).toThrow(/PORTICO_TURN_URLS/);
    expect(() => loadConfig({ PORTICO_STUN_URLS: 'turn:x:1' })).toThrow(/PORTICO_STUN_URLS/);
    expect(() => loadConfig({ PORTICO_CALL_PATH: 'pigeon' })).toThrow(/PORTICO_CALL_PATH/);
    expect(() => loadConfig({ PORTICO_TURN_TTL: '10' })).toThrow(/PORTICO_TURN_TTL/);
  });

  it('reads PORTICO_SEATS (a whole number; unset = unlimited) and PORTICO_UPDATES_ENABLED', () => {
    expect(loadConfig({}).seats).toBeUndefined();
    expect(loadConfig({ PORTICO_SEATS: '250', PORTICO_UPDATES_ENABLED: 'false' })).toMatchObject({ seats: 250, updatesEnabled: false });
    expect(loadConfig({ PORTICO_UPDATES_ENABLED: '1' }).updatesEnabled).toBe(true);
    expect(() => loadConfig({ PORTICO_SEATS: 'many' })).toThrow(/PORTICO_SEATS/);
    expect(() => loadConfig({ PORTICO_SEATS: '2.5' })).toThrow(/PORTICO_SEATS/);
    expect(() => loadConfig({ PORTICO_UPDATES_ENABLED: 'maybe' })).toThrow(/PORTICO_UPDATES_ENABLED/);
  });

  it('ignores environment variables it does not know, and empty ones', () => {
    const config = loadConfig({ PORTICO_PORT: '', PORTICO_HOST: '', PORTICO_NONSENSE: 'x', PATH: '/usr/bin', PORT: '1234' });
    expect(config.port).toBe(8080);
    expect(config.host).toBe('127.0.0.1');
    expect(config).not.toHaveProperty('nonsense');
  });

  it('takes every PORTICO_* variable, converting numbers and booleans', () => {
    const config = loadConfig({
      PORTICO_HOST: '0.0.0.0',
      PORTICO_PORT: '9000',
      PORTICO_DATA_DIR: '/var/lib/portico',
      PORTICO_ADMIN_PASSWORD: 'first admin password',
      PORTICO_LOG_LEVEL: 'debug',
      PORTICO_PRESENCE_GRACE_MS: '5000',
      PORTICO_EVENT_RETENTION_DAYS: '7',
      PORTICO_SESSION_DAYS: '2',
      PORTICO_TRUST_PROXY: 'true',
      PORTICO_LOGIN_PER_IP_PER_MINUTE: '30',
      PORTICO_LOGIN_FAILURES_PER_ADDRESS: '5',
      PORTICO_LOGIN_FAILURES_PER_ACCOUNT: '50',
    });
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 9000,
      dataDir: '/var/lib/portico',
      adminPassword: 'first admin password',
      logLevel: 'debug',
      presenceGraceMs: 5000,
      eventRetentionDays: 7,
      sessionDays: 2,
      trustProxy: 1,
      loginPerIpPerMinute: 30,
      loginFailuresPerUser: 5,
      loginFailuresPerAccount: 50,
    });
  });

  it('reads PORTICO_TRUST_PROXY: true/1 is one proxy hop, a number N hops, false/0 off, or a list of proxy addresses', () => {
    expect(loadConfig({ PORTICO_TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ PORTICO_TRUST_PROXY: 'true' }).trustProxy).toBe(1);
    expect(loadConfig({ PORTICO_TRUST_PROXY: '3' }).trustProxy).toBe(3);
    expect(loadConfig({ PORTICO_TRUST_PROXY: '0' }).trustProxy).toBe(false);
    expect(loadConfig({ PORTICO_TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(loadConfig({}, { trustProxy: true }).trustProxy).toBe(1);
    expect(loadConfig({ PORTICO_TRUST_PROXY: '127.0.0.1, 10.0.0.0/8,fd00::/8, ::1' }).trustProxy).toEqual(['127.0.0.1', '10.0.0.0/8', 'fd00::/8', '::1']);
  });

  it('lets flags override the environment, and falls back to the environment for flags not given', () => {
    const env = { PORTICO_PORT: '9000', PORTICO_HOST: '10.0.0.1', PORTICO_DATA_DIR: '/from/env', PORTICO_LOG_LEVEL: 'warn' };
    const config = loadConfig(env, { port: '9001', dataDir: '/from/flag', host: undefined, logLevel: undefined });
    expect(config.port).toBe(9001);
    expect(config.dataDir).toBe('/from/flag');
    expect(config.host).toBe('10.0.0.1');
    expect(config.logLevel).toBe('warn');
    // Settings that have no environment variable come from flags (the test harness's way).
    expect(loadConfig({}, { sweepIntervalMs: 25, loginFailuresPerUser: 3 })).toMatchObject({ sweepIntervalMs: 25, loginFailuresPerUser: 3 });
  });

  it('does not touch the environment object it is given', () => {
    const env = { PORTICO_PORT: '9000' };
    loadConfig(env, { port: 1 });
    expect(env).toEqual({ PORTICO_PORT: '9000' });
  });

  it.each([
    ['PORTICO_PORT', 'notaport'],
    ['PORTICO_PORT', '70000'],
    ['PORTICO_PORT', '-1'],
    ['PORTICO_PORT', '80.5'],
    ['PORTICO_LOG_LEVEL', 'loud'],
    ['PORTICO_ADMIN_PASSWORD', 'short'],
    ['PORTICO_PRESENCE_GRACE_MS', 'soon'],
    ['PORTICO_PRESENCE_GRACE_MS', '10'],
    ['PORTICO_EVENT_RETENTION_DAYS', '0'],
    ['PORTICO_SESSION_DAYS', '1000'],
    ['PORTICO_TRUST_PROXY', 'yes'],
    ['PORTICO_TRUST_PROXY', '10.0.0.1, proxy.example'],
    ['PORTICO_TRUST_PROXY', '10.0.0.0/33'],
    ['PORTICO_TRUST_PROXY', '50'],
    ['PORTICO_LOGIN_FAILURES_PER_ACCOUNT', '0'],
  ])('a bad %s (%j) throws a ConfigError naming the variable', (name, value) => {
    const message = configError({ [name]: value });
    expect(message).toContain(name);
    expect(message.startsWith('bad configuration')).toBe(true);
    // Only the bad setting is named.
    const named = message.match(/PORTICO_[A-Z_]+/g) ?? [];
    expect([...new Set(named)]).toEqual([name]);
  });

  it('names every bad setting at once', () => {
    const message = configError({ PORTICO_PORT: 'x', PORTICO_LOG_LEVEL: 'loud', PORTICO_HOST: 'localhost' });
    expect(message).toContain('PORTICO_PORT');
    expect(message).toContain('PORTICO_LOG_LEVEL');
    expect(message).not.toContain('PORTICO_HOST');
  });

  it('a bad flag is reported under the variable of the same setting', () => {
    expect(configError({ PORTICO_PORT: '9000' }, { port: 'abc' })).toContain('PORTICO_PORT');
    expect(configError({}, { logLevel: 'chatty' })).toContain('PORTICO_LOG_LEVEL');
  });

  it('a bad setting without an environment variable is named by its key', () => {
    expect(configError({}, { sweepIntervalMs: 1 })).toContain('sweepIntervalMs');
  });

  it('a blank PORTICO_PORT ("  ") is not silently port 0 (a random port): unset or an error', () => {
    let port: number | undefined;
    try {
      port = loadConfig({ PORTICO_PORT: '  ' }).port;
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain('PORTICO_PORT');
      return;
    }
    expect(port).toBe(8080);
  });

  it('rejects unknown settings passed as flags', () => {
    expect(configError({}, { colour: 'blue' } as never)).toMatch(/bad configuration/);
  });
});
