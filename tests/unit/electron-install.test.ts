import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clientInfo, INSTALL_FILE, loadInstallId } from '../../electron/main/install.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'portico-install-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('install id', () => {
  it('is created once, stored in install.json, and the same on every later start', () => {
    const first = loadInstallId(dir);
    expect(first).toMatch(UUID);
    expect(JSON.parse(readFileSync(join(dir, INSTALL_FILE), 'utf8')).installId).toBe(first);
    expect(loadInstallId(dir)).toBe(first);
    expect(loadInstallId(dir, () => 'never-called')).toBe(first);
  });

  it('is created anew when the file is missing its id or is not JSON', () => {
    writeFileSync(join(dir, INSTALL_FILE), '{"installId": "not-a-uuid"}');
    const fresh = loadInstallId(dir);
    expect(fresh).toMatch(UUID);
    writeFileSync(join(dir, INSTALL_FILE), 'garbage');
    const again = loadInstallId(dir);
    expect(again).toMatch(UUID);
    expect(again).not.toBe(fresh);
    expect(loadInstallId(dir)).toBe(again);
  });

  it('throws when a new id cannot be saved', () => {
    expect(() => loadInstallId(join(dir, 'missing', 'deeper'))).toThrow();
  });
});

describe('client info', () => {
  it('reports install id, version and platform', () => {
    const info = clientInfo({ userDataDir: dir, version: '1.2.0', platform: 'win32' });
    expect(info).toEqual({ installId: loadInstallId(dir), version: '1.2.0', platform: 'win32' });
    expect(statSync(join(dir, INSTALL_FILE)).isFile()).toBe(true);
  });

  it('is null when the server would refuse it or the id cannot be kept', () => {
    expect(clientInfo({ userDataDir: dir, version: '1.2.0', platform: 'freebsd' })).toBeNull();
    expect(clientInfo({ userDataDir: dir, version: 'dev', platform: 'linux' })).toBeNull();
    expect(clientInfo({ userDataDir: join(dir, 'missing', 'deeper'), version: '1.2.0', platform: 'linux' })).toBeNull();
  });
});
