import { describe, expect, it } from 'vitest';
import { configSources, resolveConfig } from '../../electron/main/config.js';
import { parseRegQuery, registrySource } from '../../electron/main/registry.js';

// What `reg query HKLM\SOFTWARE\Policies\Portico` prints (Windows 10/11, CRLF line ends).
const OUTPUT = [
  '',
  'HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Portico',
  '    ServerUrl    REG_SZ    https://portico.example.com',
  '    CaFingerprint256    REG_SZ    ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89',
  '    autostart    REG_DWORD    0x0',
  '    IdleMinutes    REG_DWORD    0xa',
  '    updates    REG_SZ    {"enabled": true, "pinVersion": "1.2.3"}',
  '    Locked    REG_MULTI_SZ    serverUrl\\0autoStart\\0updates',
  '',
].join('\r\n');

describe('Windows registry policy', () => {
  it('parses reg query output into config data, by key name in any letter case', () => {
    expect(parseRegQuery(OUTPUT)).toEqual({
      serverUrl: 'https://portico.example.com',
      caFingerprint256: 'ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89',
      autoStart: false,
      idleMinutes: 10,
      updates: { enabled: true, pinVersion: '1.2.3' },
      locked: ['serverUrl', 'autoStart', 'updates'],
    });
    expect(parseRegQuery('    Locked    REG_SZ    serverUrl, dockEdge').locked).toEqual(['serverUrl', 'dockEdge']);
  });

  it('is a source only on Windows, and only when the policy key exists', () => {
    expect(registrySource('linux', () => OUTPUT)).toBeUndefined();
    expect(
      registrySource('win32', () => {
        throw new Error('ERROR: The system was unable to find the specified registry key or value.');
      }),
    ).toBeUndefined();
    expect(registrySource('win32', () => OUTPUT)).toMatchObject({ admin: true, data: { serverUrl: 'https://portico.example.com' } });
  });

  it('overrides the machine file and its locks bind user settings', () => {
    const files: Record<string, string> = {
      'C:\\ProgramData\\Portico\\config.json': JSON.stringify({ serverUrl: 'https://file.example.com', dockEdge: 'left' }),
      'C:\\Users\\ann\\settings.json': JSON.stringify({ serverUrl: 'https://elsewhere.example.com', autoStart: true, idleMinutes: 30 }),
    };
    const read = (path: string) => {
      if (!(path in files)) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
      return Buffer.from(files[path]!);
    };
    const sources = configSources({
      platform: 'win32',
      env: { ProgramData: 'C:\\ProgramData' },
      argv: [],
      userSettingsPath: 'C:\\Users\\ann\\settings.json',
      read,
      registry: (platform) => registrySource(platform, () => OUTPUT),
    });
    const { config, locked } = resolveConfig(sources);
    expect(config.serverUrl).toBe('https://portico.example.com'); // policy over file; user cannot change it
    expect(config.dockEdge).toBe('left'); // from the file, not set by policy
    expect(config.autoStart).toBe(false); // locked by policy
    expect(config.idleMinutes).toBe(30); // not locked: the user's choice
    expect(locked).toEqual(expect.arrayContaining(['serverUrl', 'autoStart', 'updates']));
  });
});
