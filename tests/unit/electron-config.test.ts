import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  configFileArgument,
  configSources,
  DEFAULTS,
  insecureServerProblem,
  loadConfig,
  machineConfigPath,
  readSource,
  resolveConfig,
  saveUserSetting,
  toProxyConfig,
  type ConfigSource,
} from '../../electron/main/config.js';

const machine = (data: unknown): ConfigSource => ({ name: '/etc/portico/config.json', admin: true, data });
const switchFile = (data: unknown): ConfigSource => ({ name: '/opt/site.json', admin: true, data });
const user = (data: unknown): ConfigSource => ({ name: 'user settings', admin: false, data });

const FP = 'fa:89:04:57:73:ad:9f:ba:4e:e0:83:b4:0f:86:d1:dc:a0:f0:de:aa:6c:55:c4:90:36:6a:fb:5b:ec:10:ea:1c';
const FP_NORMAL = FP.toUpperCase();

describe('resolveConfig', () => {
  it('gives the safe defaults with no sources', () => {
    const { config, locked, errors } = resolveConfig([]);
    expect(config).toEqual(DEFAULTS);
    expect(config).toMatchObject({ dockEdge: 'right', idleMinutes: 5, alwaysOnTop: false, proxy: { mode: 'system' } });
    expect(config.serverUrl).toBeUndefined();
    expect(locked).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('lets later sources win: machine, then --config, then user', () => {
    const { config, origin } = resolveConfig([
      machine({ serverUrl: 'https://portico.example.com', idleMinutes: 10, dockEdge: 'left' }),
      switchFile({ idleMinutes: 15, alwaysOnTop: true }),
      user({ idleMinutes: 20, language: 'ja' }),
    ]);
    expect(config).toMatchObject({ serverUrl: 'https://portico.example.com', idleMinutes: 20, dockEdge: 'left', alwaysOnTop: true, language: 'ja' });
    expect(origin).toMatchObject({ serverUrl: '/etc/portico/config.json', idleMinutes: 'user settings', alwaysOnTop: '/opt/site.json' });
  });

  it('keeps locked keys from being changed by later sources, and says so', () => {
    const { config, locked, errors } = resolveConfig([
      machine({ serverUrl: 'https://portico.example.com/', autoStart: true, locked: ['serverUrl', 'autoStart'] }),
      switchFile({ serverUrl: 'https://evil.example.net' }),
      user({ serverUrl: 'https://other.example.org', autoStart: false, dockEdge: 'top' }),
    ]);
    expect(config.serverUrl).toBe('https://portico.example.com');
    expect(config.autoStart).toBe(true);
    expect(config.dockEdge).toBe('top');
    expect(locked.sort()).toEqual(['autoStart', 'serverUrl']);
    expect(errors).toHaveLength(3);
    expect(errors[0]).toContain('/opt/site.json');
    expect(errors[0]).toContain('"serverUrl" is locked by /etc/portico/config.json');
    expect(errors.some((e) => e.startsWith('user settings') && e.includes('"autoStart" is locked'))).toBe(true);
  });

  it('lets the --config file lock keys against the user, but not unlock the machine file', () => {
    const { config, locked } = resolveConfig([
      machine({ idleMinutes: 10, locked: ['idleMinutes'] }),
      switchFile({ idleMinutes: 30, dockEdge: 'bottom', locked: ['dockEdge'] }),
      user({ idleMinutes: 60, dockEdge: 'left' }),
    ]);
    expect(config.idleMinutes).toBe(10);
    expect(config.dockEdge).toBe('bottom');
    expect(locked.sort()).toEqual(['dockEdge', 'idleMinutes']);
  });

  it('locks a key at its default when the admin locks it without a value', () => {
    const { config, locked } = resolveConfig([machine({ locked: ['alwaysOnTop'] }), user({ alwaysOnTop: true })]);
    expect(config.alwaysOnTop).toBe(false);
    expect(locked).toEqual(['alwaysOnTop']);
  });

  it('ignores "locked" in user settings', () => {
    const { locked, errors } = resolveConfig([user({ locked: ['serverUrl'] })]);
    expect(locked).toEqual([]);
    expect(errors).toEqual(['user settings: "locked" only counts in administrator files; ignored']);
  });

  it('reports a bad value with file and key, and keeps the earlier value for it', () => {
    const { config, errors } = resolveConfig([
      machine({ idleMinutes: 10, serverUrl: 'https://portico.example.com' }),
      user({ idleMinutes: 500, dockEdge: 'middle', serverUrl: 'ftp://x.example.com', alwaysOnTop: true }),
    ]);
    expect(config.idleMinutes).toBe(10);
    expect(config.dockEdge).toBe('right');
    expect(config.serverUrl).toBe('https://portico.example.com');
    expect(config.alwaysOnTop).toBe(true); // the good key of the same file still counts
    expect(errors).toHaveLength(3);
    expect(errors[0]).toBe('user settings: "idleMinutes": must be between 1 and 240; ignored');
    expect(errors[1]).toMatch(/^user settings: "dockEdge": /);
    expect(errors[2]).toMatch(/^user settings: "serverUrl": must be an http:\/\/ or https:\/\/ URL/);
  });

  it('reports unreadable files and non-objects, and starts from the other sources', () => {
    const { config, errors } = resolveConfig([
      { name: '/etc/portico/config.json', admin: true, error: 'is not valid JSON (Unexpected token)' },
      switchFile([1, 2, 3]),
      user({ dockEdge: 'left' }),
    ]);
    expect(config).toEqual({ ...DEFAULTS, dockEdge: 'left' });
    expect(errors).toEqual([
      '/etc/portico/config.json: is not valid JSON (Unexpected token); the file is ignored',
      '/opt/site.json: must contain a JSON object ({ ... }); the file is ignored',
    ]);
  });

  it('reports unknown keys and bad lock lists', () => {
    const { locked, errors } = resolveConfig([machine({ serverURL: 'https://x.example.com', locked: ['serverUrl', 'nonsense', 3] })]);
    expect(locked).toEqual(['serverUrl']);
    expect(errors[0]).toContain('"serverURL" is not a known setting');
    expect(errors[1]).toContain('"locked" names unknown setting "nonsense"');
    expect(errors[2]).toContain('"locked" names unknown setting 3');
    expect(resolveConfig([machine({ locked: 'serverUrl' })]).errors[0]).toContain('"locked" must be a list');
  });

  it('normalises the server URL and the CA fingerprint', () => {
    const { config } = resolveConfig([user({ serverUrl: 'HTTPS://Portico.Example.com:443/prefix//', caFingerprint256: FP })]);
    expect(config.serverUrl).toBe('https://portico.example.com/prefix');
    expect(config.caFingerprint256).toBe(FP_NORMAL);
    const plain = resolveConfig([user({ caFingerprint256: FP.replace(/:/g, '') })]).config;
    expect(plain.caFingerprint256).toBe(FP_NORMAL);
    const openssl = resolveConfig([user({ caFingerprint256: `sha256 Fingerprint=${FP_NORMAL}` })]).config;
    expect(openssl.caFingerprint256).toBe(FP_NORMAL);
  });

  it('refuses server URLs with credentials, queries, or other schemes, and short fingerprints', () => {
    for (const serverUrl of ['https://user:pw@portico.example.com', 'https://portico.example.com/?a=1', 'https://portico.example.com/#x', 'javascript:alert(1)', 'portico.example.com']) {
      const { config, errors } = resolveConfig([user({ serverUrl })]);
      expect(config.serverUrl, serverUrl).toBeUndefined();
      expect(errors, serverUrl).toHaveLength(1);
    }
    const { config, errors } = resolveConfig([user({ caFingerprint256: 'AB:CD' })]);
    expect(config.caFingerprint256).toBeUndefined();
    expect(errors[0]).toContain('"caFingerprint256": must be a SHA-256 fingerprint');
  });

  it('checks proxy and update settings as a whole, replacing (not merging) them', () => {
    const { config, errors } = resolveConfig([
      machine({ proxy: { mode: 'manual', rules: 'proxy.corp:3128', bypass: '<local>' }, updates: { enabled: true, pinVersion: '1.2.3' } }),
      user({ proxy: { mode: 'pac' }, updates: { enabled: false } }),
    ]);
    expect(config.proxy).toEqual({ mode: 'manual', rules: 'proxy.corp:3128', bypass: '<local>' });
    expect(config.updates).toEqual({ enabled: false });
    expect(errors).toEqual(['user settings: "proxy.pacUrl": mode "pac" needs pacUrl; ignored']);
    const bad = resolveConfig([user({ proxy: { mode: 'manual' }, updates: { enabled: true, pinVersion: 'latest' } })]);
    expect(bad.errors).toHaveLength(2);
    expect(bad.errors[1]).toContain('"updates.pinVersion": must be a version like 1.2.3');
  });
});

describe('insecure servers and the pinned update key', () => {
  const KEY = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }).toString('base64');

  it('refuses an http:// server URL unless an admin file sets allowInsecureServer; the earlier https one stands', () => {
    const refused = resolveConfig([machine({ serverUrl: 'https://portico.example.com' }), user({ serverUrl: 'http://portico.example.com' })]);
    expect(refused.config.serverUrl).toBe('https://portico.example.com');
    expect(refused.errors).toHaveLength(1);
    expect(refused.errors[0]).toMatch(/^user settings: "serverUrl": must be https:\/\/ .*"allowInsecureServer": true.*; ignored$/);
    expect(resolveConfig([machine({ serverUrl: 'http://portico.corp' })]).config.serverUrl).toBeUndefined();

    const allowed = resolveConfig([machine({ allowInsecureServer: true }), user({ serverUrl: 'http://portico.corp:8080' })]);
    expect(allowed.config.serverUrl).toBe('http://portico.corp:8080');
    expect(allowed.errors).toEqual([]);
    // The --config file is an admin file too, and may come after the URL it allows.
    expect(resolveConfig([machine({ serverUrl: 'http://portico.corp' }), switchFile({ allowInsecureServer: true })]).config.serverUrl).toBe('http://portico.corp');
  });

  it('accepts http:// on loopback (nothing on the network sees it)', () => {
    for (const url of ['http://127.0.0.1:3000', 'http://localhost:3000', 'http://[::1]:3000']) {
      const { config, errors } = resolveConfig([user({ serverUrl: url })]);
      expect(config.serverUrl, url).toBe(url);
      expect(errors, url).toEqual([]);
    }
    expect(resolveConfig([user({ serverUrl: 'http://127.0.0.1.evil.example' })]).config.serverUrl).toBeUndefined();
  });

  it('counts allowInsecureServer and updatePublicKey only in administrator files', () => {
    const { config, errors } = resolveConfig([
      machine({ updatePublicKey: KEY }),
      user({ allowInsecureServer: true, updatePublicKey: undefined, serverUrl: 'http://portico.corp' }),
    ]);
    expect(config.allowInsecureServer).toBe(false);
    expect(config.updatePublicKey).toBe(KEY);
    expect(config.serverUrl).toBeUndefined();
    expect(errors).toContain('user settings: "allowInsecureServer" only counts in administrator files; ignored');
    expect(errors).toContain('user settings: "updatePublicKey" only counts in administrator files; ignored');
  });

  it('checks the pinned key, and a machine file can lock it against the --config file', () => {
    const bad = resolveConfig([machine({ updatePublicKey: 'not-a-key' })]);
    expect(bad.config.updatePublicKey).toBeUndefined();
    expect(bad.errors[0]).toMatch(/"updatePublicKey": must be the Ed25519 public key printed by `portico update keygen`/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
    expect(resolveConfig([machine({ updatePublicKey: rsa })]).config.updatePublicKey).toBeUndefined();

    const other = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
    const locked = resolveConfig([machine({ updatePublicKey: KEY, locked: ['updatePublicKey', 'allowInsecureServer'] }), switchFile({ updatePublicKey: other, allowInsecureServer: true })]);
    expect(locked.config.updatePublicKey).toBe(KEY);
    expect(locked.config.allowInsecureServer).toBe(false);
    expect(locked.errors).toHaveLength(2);
  });

  it('insecureServerProblem says why for the prompt and set-setting', () => {
    expect(insecureServerProblem('https://portico.example.com', false)).toBeUndefined();
    expect(insecureServerProblem('http://portico.example.com', true)).toBeUndefined();
    expect(insecureServerProblem('http://portico.example.com', false)).toMatch(/must be https:\/\//);
  });
});

describe('toProxyConfig', () => {
  it('maps each mode to Electron proxy settings', () => {
    expect(toProxyConfig({ mode: 'system' })).toEqual({ mode: 'system' });
    expect(toProxyConfig({ mode: 'pac', pacUrl: 'http://wpad.corp/proxy.pac' })).toEqual({ mode: 'pac_script', pacScript: 'http://wpad.corp/proxy.pac' });
    expect(toProxyConfig({ mode: 'manual', rules: 'proxy:3128', bypass: '<local>' })).toEqual({ mode: 'fixed_servers', proxyRules: 'proxy:3128', proxyBypassRules: '<local>' });
  });
});

describe('loading files', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('knows the machine-wide file of each platform', () => {
    expect(machineConfigPath('win32', { ProgramData: 'D:\\PD' })).toBe('D:\\PD\\Portico\\config.json');
    expect(machineConfigPath('win32', {})).toBe('C:\\ProgramData\\Portico\\config.json');
    expect(machineConfigPath('linux', {})).toBe('/etc/portico/config.json');
    expect(machineConfigPath('darwin', {})).toBe('/Library/Application Support/Portico/config.json');
  });

  it('takes --config (both spellings) before PORTICO_CONFIG', () => {
    expect(configFileArgument(['electron', '.', '--config', '/a.json'], { PORTICO_CONFIG: '/b.json' })).toBe('/a.json');
    expect(configFileArgument(['--config=/c.json'], {})).toBe('/c.json');
    expect(configFileArgument([], { PORTICO_CONFIG: '/b.json' })).toBe('/b.json');
    expect(configFileArgument(['--config'], {})).toBeUndefined();
  });

  it('reads files: missing machine file is fine, missing --config file is an error, BOM and bad JSON handled', () => {
    dir = mkdtempSync(join(tmpdir(), 'portico-config-'));
    const good = join(dir, 'good.json');
    writeFileSync(good, '\uFEFF{"dockEdge":"top"}');
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"dockEdge": top}');
    expect(readSource(good, { admin: true })).toEqual({ name: good, admin: true, data: { dockEdge: 'top' } });
    expect(readSource(join(dir, 'none.json'), { admin: true })).toEqual({ name: join(dir, 'none.json'), admin: true });
    expect(readSource(join(dir, 'none.json'), { admin: true, required: true }).error).toBe('file not found');
    expect(readSource(bad, { admin: true }).error).toMatch(/^is not valid JSON/);
    expect(readSource(dir, { admin: true }).error).toMatch(/^cannot be read \(EISDIR\)/);
  });

  it('loads machine file, switch file and user settings in order', () => {
    dir = mkdtempSync(join(tmpdir(), 'portico-config-'));
    const siteFile = join(dir, 'site.json');
    const settings = join(dir, 'settings.json');
    writeFileSync(siteFile, JSON.stringify({ serverUrl: 'https://portico.example.com', locked: ['serverUrl'] }));
    writeFileSync(settings, JSON.stringify({ serverUrl: 'https://elsewhere.example.com', idleMinutes: 7 }));
    const files: Record<string, string> = { [siteFile]: readFileSync(siteFile, 'utf8'), [settings]: readFileSync(settings, 'utf8') };
    const read = (path: string): Buffer => {
      if (path === '/etc/portico/config.json') return Buffer.from('{"dockEdge":"left"}');
      if (path in files) return Buffer.from(files[path]!);
      throw Object.assign(new Error('missing'), { code: 'ENOENT' });
    };
    const options = { platform: 'linux' as const, env: {}, argv: ['--config', siteFile], userSettingsPath: settings, read };
    expect(configSources(options).map((s) => s.name)).toEqual(['/etc/portico/config.json', siteFile, `user settings (${settings})`]);
    const { config, locked, errors } = loadConfig(options);
    expect(config).toMatchObject({ dockEdge: 'left', serverUrl: 'https://portico.example.com', idleMinutes: 7 });
    expect(locked).toEqual(['serverUrl']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(`user settings (${settings}): "serverUrl" is locked by ${siteFile}`);
  });

  it('saves a user setting, keeping the others, even over a broken file', () => {
    dir = mkdtempSync(join(tmpdir(), 'portico-config-'));
    const settings = join(dir, 'sub', 'settings.json');
    saveUserSetting(settings, 'dockEdge', 'left');
    saveUserSetting(settings, 'idleMinutes', 9);
    expect(JSON.parse(readFileSync(settings, 'utf8'))).toEqual({ dockEdge: 'left', idleMinutes: 9 });
    writeFileSync(settings, 'garbage');
    saveUserSetting(settings, 'language', 'ja');
    expect(JSON.parse(readFileSync(settings, 'utf8'))).toEqual({ language: 'ja' });
  });
});
