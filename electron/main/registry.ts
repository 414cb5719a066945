/**
 * Windows Group Policy: `HKLM\SOFTWARE\Policies\Portico`, read with `reg query` and turned into
 * one more admin config source. Each value is named after a config key (any letter case):
 * REG_SZ for text (proxy and updates as JSON text), REG_DWORD for true/false and numbers, and
 * `locked` as REG_MULTI_SZ (or comma-separated REG_SZ). No electron import: unit-tested in Node.
 */
import { execFileSync } from 'node:child_process';
import { CONFIG_KEYS, type ConfigSource } from './config.js';

export const POLICY_KEY = 'HKLM\\SOFTWARE\\Policies\\Portico';
const OBJECT_KEYS = new Set(['proxy', 'updates']);
const BOOLEAN_KEYS = new Set(['autoStart', 'alwaysOnTop', 'allowInsecureServer']);

/** Parses `reg query` output into config data; unknown names are kept so the resolver can name them. */
export function parseRegQuery(output: string): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const line of output.split(/\r?\n/)) {
    const m = /^ {4}(.+?) {4}(REG_[A-Z_]+)(?: {4}(.*))?$/.exec(line);
    if (!m) continue;
    const [, rawName = '', type, raw = ''] = m;
    const name = rawName.toLowerCase() === 'locked' ? 'locked' : (CONFIG_KEYS.find((k) => k.toLowerCase() === rawName.toLowerCase()) ?? rawName);
    if (name === 'locked') {
      data.locked = raw.split(type === 'REG_MULTI_SZ' ? '\\0' : ',').map((s) => s.trim()).filter(Boolean);
    } else if (type === 'REG_DWORD' || type === 'REG_QWORD') {
      const n = Number.parseInt(raw, 16);
      data[name] = BOOLEAN_KEYS.has(name) ? n !== 0 : n;
    } else if (OBJECT_KEYS.has(name)) {
      try {
        data[name] = JSON.parse(raw);
      } catch {
        data[name] = raw; // the resolver says what is wrong with it
      }
    } else {
      data[name] = raw;
    }
  }
  return data;
}

/** The policy as a config source, or undefined off Windows or when no policy is set. */
export function registrySource(
  platform: NodeJS.Platform,
  query: () => string = () => execFileSync('reg', ['query', POLICY_KEY], { encoding: 'utf8', windowsHide: true, timeout: 5000 }),
): ConfigSource | undefined {
  if (platform !== 'win32') return undefined;
  let output: string;
  try {
    output = query();
  } catch {
    return undefined; // reg exits 1 when the key does not exist: no policy
  }
  return { name: `registry policy (${POLICY_KEY})`, admin: true, data: parseRegQuery(output) };
}
