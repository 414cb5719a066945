/**
 * Admin and user configuration of the panel.
 *
 * Sources, later ones winning: the machine-wide file, then the file named by `--config` (or
 * PORTICO_CONFIG when there is no switch), then the user's settings. An admin file may lock keys
 * (`"locked": ["serverUrl"]`): no later source can change them. Each key is validated on its
 * own, so one bad value costs only that value: it is reported (file and key) and the earlier
 * sources or the defaults stand. Object values (proxy, updates) are replaced whole, never mixed.
 *
 * Trust anchors count only in administrator files (ADMIN_ONLY_KEYS): the pinned update key
 * (`updatePublicKey`) and `allowInsecureServer`. A server URL that is not https:// is refused
 * unless an administrator file sets `allowInsecureServer: true`; loopback (127.0.0.0/8, [::1],
 * localhost) is the one exception, since nothing on the network sees that traffic.
 *
 * No electron import: the main process passes paths and reads; tests call resolveConfig directly.
 */
import { readFileSync, renameSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { PanelConfig, SettableKey } from '../preload/bridge.js';
import { isPublicKey } from './update-trust.js';

const httpUrl = z.string().max(2048).refine((value) => {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && !url.username && !url.password;
  } catch {
    return false;
  }
}, 'must be an http:// or https:// URL without user name or password');

/** The server's address, normalised to origin + path prefix without the trailing slash. */
export const ServerUrl = httpUrl.transform((value, context) => {
  const url = new URL(value);
  if (url.search || url.hash) {
    context.addIssue({ code: 'custom', message: 'must not have a query (?) or fragment (#)' });
    return z.NEVER;
  }
  return url.origin + url.pathname.replace(/\/+$/, '');
});

/** SHA-256 fingerprint: 64 hex digits, colons and spaces optional; normalised to AB:CD:... */
export const Fingerprint256 = z
  .string()
  .max(200)
  .transform((value) => value.replace(/^sha256\s*fingerprint\s*=\s*/i, '').replace(/[\s:]/g, '').toUpperCase())
  .refine((hex) => /^[0-9A-F]{64}$/.test(hex), 'must be a SHA-256 fingerprint: 64 hexadecimal digits, colons optional')
  .transform((hex) => hex.match(/../g)!.join(':'));

export const DockEdge = z.enum(['right', 'left', 'top', 'bottom']);
export type DockEdge = z.infer<typeof DockEdge>;

export const ProxySettings = z
  .strictObject({
    mode: z.enum(['system', 'pac', 'manual']),
    pacUrl: httpUrl.optional(),
    /** Chromium proxy rules, e.g. "http=proxy:3128;https=proxy:3128" or "proxy.corp:8080". */
    rules: z.string().min(1).max(2000).optional(),
    /** Hosts that bypass a manual proxy, e.g. "<local>;*.corp.example". */
    bypass: z.string().max(2000).optional(),
  })
  .refine((p) => p.mode !== 'pac' || p.pacUrl !== undefined, { message: 'mode "pac" needs pacUrl', path: ['pacUrl'] })
  .refine((p) => p.mode !== 'manual' || p.rules !== undefined, { message: 'mode "manual" needs rules', path: ['rules'] });
export type ProxySettings = z.infer<typeof ProxySettings>;

export const UpdateSettings = z.strictObject({
  enabled: z.boolean(),
  pinVersion: z
    .string()
    .regex(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/, 'must be a version like 1.2.3')
    .optional(),
});

/** The organisation's update signing key: base64 of an Ed25519 SPKI DER (`portico update keygen` prints it). */
export const UpdatePublicKey = z
  .string()
  .max(200)
  .transform((value) => value.replace(/\s/g, ''))
  .refine(isPublicKey, 'must be the Ed25519 public key printed by `portico update keygen` (base64)');

/** One schema per key, so each is checked (and rejected) on its own. */
export const KEY_SCHEMAS = {
  serverUrl: ServerUrl,
  caFingerprint256: Fingerprint256,
  autoStart: z.boolean({ error: 'must be true or false' }),
  dockEdge: DockEdge,
  alwaysOnTop: z.boolean({ error: 'must be true or false' }),
  idleMinutes: z
    .number({ error: 'must be a number of minutes' })
    .int('must be a whole number of minutes')
    .min(1, 'must be between 1 and 240')
    .max(240, 'must be between 1 and 240'),
  proxy: ProxySettings,
  updates: UpdateSettings,
  updatePublicKey: UpdatePublicKey,
  allowInsecureServer: z.boolean({ error: 'must be true or false' }),
  language: z.enum(['en', 'ja']),
} as const;

/** Keys that only administrator files may set (user settings cannot loosen what the admin pinned). */
export const ADMIN_ONLY_KEYS: readonly ConfigKey[] = ['updatePublicKey', 'allowInsecureServer'];

export type ConfigKey = keyof typeof KEY_SCHEMAS;
export const CONFIG_KEYS = Object.keys(KEY_SCHEMAS) as ConfigKey[];
export type PorticoConfig = { [K in ConfigKey]: z.output<(typeof KEY_SCHEMAS)[K]> };
export type Config = Omit<PorticoConfig, 'serverUrl' | 'caFingerprint256' | 'language' | 'updatePublicKey'> &
  Partial<Pick<PorticoConfig, 'serverUrl' | 'caFingerprint256' | 'language' | 'updatePublicKey'>>;

/** What the renderer may change through set-setting (never the trust anchor or update policy). */
export const SETTABLE_KEYS: readonly SettableKey[] = ['serverUrl', 'autoStart', 'dockEdge', 'alwaysOnTop', 'idleMinutes', 'proxy', 'language'];

export const DEFAULTS: Config = {
  autoStart: true,
  dockEdge: 'right',
  alwaysOnTop: false,
  idleMinutes: 5,
  proxy: { mode: 'system' },
  updates: { enabled: true },
  allowInsecureServer: false,
};

const LOOPBACK = /^(127(\.\d{1,3}){3}|\[::1\]|localhost)$/i;

/**
 * Why a (validated) server URL may not be used, or undefined: only https://, unless the admin
 * allows plain http, or the server is on this machine (loopback).
 */
export function insecureServerProblem(serverUrl: string, allowInsecureServer: boolean): string | undefined {
  const url = new URL(serverUrl);
  if (url.protocol === 'https:' || allowInsecureServer || LOOPBACK.test(url.hostname)) return undefined;
  return 'must be https:// (over http:// anyone on the way can read and change everything, updates included); an administrator can allow http:// with "allowInsecureServer": true in the machine-wide configuration';
}

// The bridge's hand-written PanelConfig must stay the same shape as the validated Config.
const sameShape: [Config, PanelConfig] extends [PanelConfig, Config] ? true : never = true;
void sameShape;

export interface ConfigSource {
  /** Shown in messages: the file path, or "user settings". */
  name: string;
  /** Admin sources may lock keys; user settings may not. */
  admin: boolean;
  /** The parsed JSON, when it could be read. */
  data?: unknown;
  /** Why the file could not be read or parsed. */
  error?: string;
}

export interface ResolvedConfig {
  config: Config;
  locked: ConfigKey[];
  errors: string[];
  /** Which source each non-default value came from. */
  origin: Partial<Record<ConfigKey, string>>;
}

function describeIssue(source: string, key: string, issue: z.core.$ZodIssue): string {
  const where = [key, ...issue.path.map(String)].join('.');
  return `${source}: "${where}": ${issue.message}`;
}

/**
 * Merges the sources in order. Never throws: problems land in `errors`. Two passes: the first
 * finds whether the admin allows an insecure server, the second refuses an http:// serverUrl
 * (that value only: the earlier sources stand) when not.
 */
export function resolveConfig(sources: readonly ConfigSource[]): ResolvedConfig {
  const allowInsecure = merge(sources, undefined).config.allowInsecureServer;
  return merge(sources, allowInsecure);
}

function merge(sources: readonly ConfigSource[], allowInsecure: boolean | undefined): ResolvedConfig {
  const config: Record<string, unknown> = { ...DEFAULTS };
  const locked = new Map<ConfigKey, string>(); // key -> the file that locked it
  const errors: string[] = [];
  const origin: Partial<Record<ConfigKey, string>> = {};

  for (const source of sources) {
    if (source.error !== undefined) {
      errors.push(`${source.name}: ${source.error}; the file is ignored`);
      continue;
    }
    if (source.data === undefined) continue;
    if (typeof source.data !== 'object' || source.data === null || Array.isArray(source.data)) {
      errors.push(`${source.name}: must contain a JSON object ({ ... }); the file is ignored`);
      continue;
    }
    const data = source.data as Record<string, unknown>;
    const lockedHere: ConfigKey[] = [];

    for (const [key, value] of Object.entries(data)) {
      if (key === 'locked' || key === '$schema' || key === 'comment') continue;
      if (!(key in KEY_SCHEMAS)) {
        errors.push(`${source.name}: "${key}" is not a known setting (known: ${CONFIG_KEYS.join(', ')}); ignored`);
        continue;
      }
      const configKey = key as ConfigKey;
      if (!source.admin && ADMIN_ONLY_KEYS.includes(configKey)) {
        errors.push(`${source.name}: "${key}" only counts in administrator files; ignored`);
        continue;
      }
      if (locked.has(configKey)) {
        errors.push(`${source.name}: "${key}" is locked by ${locked.get(configKey)}; ignored`);
        continue;
      }
      const parsed = KEY_SCHEMAS[configKey].safeParse(value);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) errors.push(`${describeIssue(source.name, key, issue)}; ignored`);
        continue;
      }
      if (configKey === 'serverUrl' && allowInsecure !== undefined) {
        const problem = insecureServerProblem(parsed.data as string, allowInsecure);
        if (problem) {
          errors.push(`${source.name}: "serverUrl": ${problem}; ignored`);
          continue;
        }
      }
      config[configKey] = parsed.data;
      origin[configKey] = source.name;
    }

    if ('locked' in data) {
      const list = data.locked;
      if (!source.admin) {
        errors.push(`${source.name}: "locked" only counts in administrator files; ignored`);
      } else if (!Array.isArray(list)) {
        errors.push(`${source.name}: "locked" must be a list of setting names; ignored`);
      } else {
        for (const name of list) {
          if (typeof name === 'string' && name in KEY_SCHEMAS) lockedHere.push(name as ConfigKey);
          else errors.push(`${source.name}: "locked" names unknown setting ${JSON.stringify(name)}; ignored`);
        }
      }
    }
    // Locks take effect after the file's own values, so a file can set and lock the same key.
    for (const key of lockedHere) if (!locked.has(key)) locked.set(key, source.name);
  }

  return { config: config as Config, locked: [...locked.keys()], errors, origin };
}

// ---------- reading the files ----------

/** Largest configuration file read (bytes): anything bigger is a mistake. */
export const MAX_CONFIG_BYTES = 256 * 1024;

export function machineConfigPath(platform: NodeJS.Platform, env: NodeJS.ProcessEnv): string {
  if (platform === 'win32') return `${env.ProgramData ?? 'C:\\ProgramData'}\\Portico\\config.json`;
  if (platform === 'darwin') return '/Library/Application Support/Portico/config.json';
  return '/etc/portico/config.json';
}

/** The file named by `--config <file>` or `--config=<file>`, else PORTICO_CONFIG. */
export function configFileArgument(argv: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--config' && i + 1 < argv.length) return argv[i + 1];
    if (arg.startsWith('--config=')) return arg.slice('--config='.length);
  }
  return env.PORTICO_CONFIG || undefined;
}

/** Reads one JSON file into a source. A missing file is simply absent unless `required`. */
export function readSource(
  path: string,
  options: { admin: boolean; required?: boolean; name?: string },
  read: (path: string) => Buffer = readFileSync,
): ConfigSource {
  const name = options.name ?? path;
  let bytes: Buffer;
  try {
    bytes = read(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !options.required) return { name, admin: options.admin };
    return { name, admin: options.admin, error: code === 'ENOENT' ? 'file not found' : `cannot be read (${code ?? String(error)})` };
  }
  if (bytes.length > MAX_CONFIG_BYTES) return { name, admin: options.admin, error: `larger than ${MAX_CONFIG_BYTES} bytes` };
  const text = bytes.toString('utf8').replace(/^\uFEFF/, ''); // Notepad writes a byte-order mark
  if (text.trim() === '') return { name, admin: options.admin };
  try {
    return { name, admin: options.admin, data: JSON.parse(text) };
  } catch (error) {
    return { name, admin: options.admin, error: `is not valid JSON (${(error as Error).message})` };
  }
}

export interface LoadOptions {
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  argv: readonly string[];
  userSettingsPath: string;
  read?: (path: string) => Buffer;
  /** Windows registry policy as a source (registry.ts registrySource); absent elsewhere. */
  registry?: (platform: NodeJS.Platform) => ConfigSource | undefined;
}

export function configSources(options: LoadOptions): ConfigSource[] {
  const sources = [readSource(machineConfigPath(options.platform, options.env), { admin: true }, options.read)];
  // Group Policy on Windows comes after the machine file: policy wins, and its locks hold.
  const policy = options.registry?.(options.platform);
  if (policy) sources.push(policy);
  const file = configFileArgument(options.argv, options.env);
  if (file) sources.push(readSource(file, { admin: true, required: true }, options.read));
  sources.push(readSource(options.userSettingsPath, { admin: false, name: `user settings (${options.userSettingsPath})` }, options.read));
  return sources;
}

export function loadConfig(options: LoadOptions): ResolvedConfig {
  return resolveConfig(configSources(options));
}

export function userSettingsPath(userDataDir: string): string {
  return join(userDataDir, 'settings.json');
}

/**
 * Stores one user setting (already validated) in the user settings file, written atomically.
 * Unreadable or broken content is replaced rather than blocking the change.
 */
export function saveUserSetting(path: string, key: ConfigKey, value: unknown): void {
  const current = readSource(path, { admin: false });
  const data = typeof current.data === 'object' && current.data !== null && !Array.isArray(current.data) ? { ...(current.data as object) } : {};
  (data as Record<string, unknown>)[key] = value;
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, path);
}

/** Electron's ProxyConfig for the proxy setting (structurally; no electron import here). */
export function toProxyConfig(proxy: ProxySettings): { mode: 'system' | 'pac_script' | 'fixed_servers'; pacScript?: string; proxyRules?: string; proxyBypassRules?: string } {
  if (proxy.mode === 'pac') return { mode: 'pac_script', pacScript: proxy.pacUrl! };
  if (proxy.mode === 'manual') return { mode: 'fixed_servers', proxyRules: proxy.rules!, ...(proxy.bypass ? { proxyBypassRules: proxy.bypass } : {}) };
  return { mode: 'system' };
}
