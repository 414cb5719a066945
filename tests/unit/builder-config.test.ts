/**
 * The installer configuration (build/electron-builder.json), checked against electron-builder's
 * own JSON schema, and the things an IT admin relies on when rolling Portico out: per-machine
 * installs that can run silently, an MSI upgrade code that never changes (otherwise a new MSI
 * installs next to the old one instead of upgrading it), hardened Electron fuses, the built app
 * inside the package. Also the admin's config template, read by the desktop app's own loader.
 */
import { Ajv } from 'ajv';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readSource, resolveConfig } from '../../electron/main/config.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(import.meta.url);
const config = JSON.parse(readFileSync(join(ROOT, 'build/electron-builder.json'), 'utf8'));

/** The committed MSI upgrade code: changing it breaks upgrades of every installed MSI. */
const MSI_UPGRADE_CODE = '6F3C1A52-8E0B-4D7A-9C61-2B84E5D07A3F';

function validator() {
  const schema = require('app-builder-lib/scheme.json');
  const ajv = new Ajv({ allErrors: true, strict: false });
  return ajv.compile(schema);
}

const targets = (platform: any): string[] =>
  (platform.target as Array<string | { target: string }>).map((t) => (typeof t === 'string' ? t : t.target));

describe('build/electron-builder.json', () => {
  it('is valid for electron-builder (its own JSON schema), and the schema does catch mistakes', () => {
    const validate = validator();
    expect(validate(config), JSON.stringify(validate.errors, null, 2)).toBe(true);
    expect(validate({ ...config, nsis: { ...config.nsis, perMachin: true } })).toBe(false);
    expect(validate({ ...config, electronFuses: { ...config.electronFuses, runAsNode: 'no' } })).toBe(false);
  });

  it('keeps the app id and product name (they name install folders, registry keys and user data)', () => {
    expect(config.appId).toBe('com.portico.panel');
    expect(config.productName).toBe('Portico');
    expect(config.directories.buildResources).toBe('build');
    expect(config.fileAssociations).toEqual([]);
  });

  it('builds NSIS and MSI for Windows, deb and AppImage for Linux, dmg for macOS', () => {
    expect(targets(config.win).sort()).toEqual(['msi', 'nsis']);
    expect(targets(config.linux).sort()).toEqual(['AppImage', 'deb']);
    expect(config.linux.category).toBe('Office');
    expect(targets(config.mac)).toEqual(['dmg']);
  });

  it('installs per machine: NSIS (silent with /S, elevating) and MSI (msiexec /quiet) with the committed upgrade code', () => {
    expect(config.nsis.perMachine).toBe(true);
    expect(config.nsis.allowElevation).toBe(true);
    // An assisted (not one-click) per-machine NSIS installer still honours /S; a one-click one
    // would offer no per-machine choice in the UI. Nothing may run a program after a silent install.
    expect(config.nsis.oneClick).toBe(false);
    expect(config.nsis.runAfterFinish).toBe(false);
    expect(config.nsis.deleteAppDataOnUninstall).toBe(false);
    expect(config.msi.perMachine).toBe(true);
    expect(config.msi.runAfterFinish).toBe(false);
    expect(config.msi.upgradeCode).toBe(MSI_UPGRADE_CODE);
    expect(config.msi.upgradeCode).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
  });

  it('hardens the Electron fuses', () => {
    expect(config.electronFuses).toMatchObject({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
    });
    expect(config.asar).toBe(true);
  });

  it('packs the built main process, preloads and renderer, and starts the built main', () => {
    const files: string[] = config.files;
    expect(files).toEqual(expect.arrayContaining(['electron/dist/**/*', 'electron/renderer/dist/**/*', 'package.json']));
    expect(files.some((f) => /^(electron\/main|electron\/preload|server|shared|tests)\b/.test(f))).toBe(false); // sources stay out
    expect(config.extraMetadata.main).toBe('electron/dist/main/main.js');
    // The layout electron/main/main.ts expects next to the built main: ../preload/preload.cjs.
    const main = readFileSync(join(ROOT, 'electron/main/main.ts'), 'utf8');
    expect(main).toMatch(/'\.\.\/preload\/preload\.cjs'/);
  });

  it('has its icon in build/ (a 512x512 PNG)', () => {
    expect(config.icon).toBe('build/icon.png');
    const png = readFileSync(join(ROOT, config.icon));
    expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
    expect(png.toString('ascii', 12, 16)).toBe('IHDR');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([512, 512]);
  });

  it('publishes updates for electron-updater’s generic provider (the Portico server’s /updates/)', () => {
    expect(config.publish).toEqual([expect.objectContaining({ provider: 'generic', url: '${env.PORTICO_UPDATE_URL}' })]);
  });
});

describe('build/config.template.json', () => {
  it('is read by the desktop app’s own loader without a single complaint, and locks what it says', () => {
    const path = join(ROOT, 'build/config.template.json');
    expect(existsSync(path)).toBe(true);
    const source = readSource(path, { admin: true });
    const resolved = resolveConfig([source, { name: 'user settings', admin: false, data: { serverUrl: 'https://elsewhere.example', dockEdge: 'left' } }]);
    expect(resolved.errors.filter((e) => !e.includes('"serverUrl" is locked'))).toEqual([]);
    expect(resolved.config.serverUrl).toBe('https://portico.example.com'); // locked: the user cannot move it
    expect(resolved.config.dockEdge).toBe('left'); // not locked: the user's choice wins
    expect(resolved.config.caFingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(resolved.config).toMatchObject({ autoStart: true, updates: { enabled: true }, proxy: { mode: 'system' } });
    expect(resolved.locked.sort()).toEqual(['allowInsecureServer', 'caFingerprint256', 'proxy', 'serverUrl', 'updatePublicKey', 'updates']);
    expect(resolved.config.updatePublicKey).toMatch(/^MCowBQYDK2VwAyEA/); // an Ed25519 key, as keygen prints it
    expect(resolved.config.allowInsecureServer).toBe(false);
  });
});
