/**
 * The `portico` command runs the built server (server/dist/), not the TypeScript sources: from a
 * copy of the package with no build yet and no tsx in its node_modules, the command builds
 * itself, then answers admin commands and starts the server, which serves the panel and the API
 * from the built location. A source newer than the build makes the next command rebuild.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, ROOT, tempDir, type Run } from '../helpers/cli.js';
import { freePort } from '../helpers/squid.js';

const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
let pkg: string;
let dataDir: string;
const servers: ChildProcess[] = [];

/** A copy of the package as it would be installed: sources, no build, dependencies without tsx. */
function copyPackage(): string {
  const dir = tempDir('portico-package-');
  for (const part of ['package.json', 'bin', 'shared', 'server/src', 'server/build.mjs']) cpSync(join(ROOT, part), join(dir, part), { recursive: true });
  mkdirSync(join(dir, 'electron/renderer'), { recursive: true });
  symlinkSync(join(ROOT, 'electron/renderer/dist'), join(dir, 'electron/renderer/dist'));
  mkdirSync(join(dir, 'node_modules'));
  for (const name of readdirSync(join(ROOT, 'node_modules'))) {
    if (name !== 'tsx' && name !== '.bin') symlinkSync(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name));
  }
  return dir;
}

function portico(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [join(pkg, 'bin/portico.js'), ...args], {
    cwd: tempDir('portico-cwd-'),
    env: cleanEnv({ PORTICO_DATA_DIR: dataDir, ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function run(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = portico(args);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  const renderer = (await import(join(ROOT, 'electron/renderer/build.mjs'))) as { isBuilt: () => boolean; buildRenderer: (o: { quiet: boolean }) => Promise<unknown> };
  if (!renderer.isBuilt()) await renderer.buildRenderer({ quiet: true });
  pkg = copyPackage();
  dataDir = tempDir('portico-data-');
});

afterAll(() => {
  for (const server of servers) server.kill('SIGKILL');
});

describe('the built portico command', () => {
  it('builds itself on first use, then answers admin commands without tsx or a rebuild', { timeout: 120_000 }, async () => {
    expect(existsSync(join(pkg, 'server/dist'))).toBe(false);
    const added = await run(['user', 'add', 'alice', '--password', 'a long password']);
    expect(added.stderr).toContain('portico: building the server into server/dist/ (not built yet)');
    expect(added.stdout).toContain('created user alice');
    expect(added.code).toBe(0);
    expect(existsSync(join(pkg, 'server/dist/main.js'))).toBe(true);

    const listed = await run(['user', 'list']);
    expect(listed).toMatchObject({ code: 0, stderr: '' });
    expect(listed.stdout).toContain('alice\t');

    const version = await run(['--version']);
    expect(version).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
  });

  it('starts the server: the banner, the API and the panel, served from the built location', { timeout: 120_000 }, async () => {
    const port = await freePort();
    const server = portico(['start'], { PORTICO_HOST: '127.0.0.1', PORTICO_PORT: String(port), PORTICO_TLS: 'false', PORTICO_LOG_LEVEL: 'warn' });
    servers.push(server);
    let out = '';
    server.stderr!.on('data', (d) => (out += d));
    await new Promise<void>((resolve, reject) => {
      server.stdout!.on('data', (d) => {
        out += d;
        if (out.includes('Stop with Ctrl+C.')) resolve();
      });
      server.once('exit', (code) => reject(new Error(`the server exited with ${code}:\n${out}`)));
    });
    const url = `http://127.0.0.1:${port}`;
    expect(out).toContain(`Portico ${VERSION} is running at ${url}`);
    expect(out).toContain(`Data directory:  ${join(dataDir, 'portico.db')}`);

    const login = await fetch(`${url}/api/v1/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: 'a long password' }),
    });
    expect(login.status).toBe(200);
    const panel = await fetch(`${url}/app/`);
    expect(panel.status).toBe(200);
    expect(await panel.text()).toContain('<script');
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  });

  it('rebuilds when a source is newer than the build', { timeout: 120_000 }, async () => {
    const now = new Date(); // later than the build of the first test
    utimesSync(join(pkg, 'server/src/version.ts'), now, now);
    const listed = await run(['user', 'list']);
    expect(listed.stderr).toContain('(server/src/version.ts changed)');
    expect(listed.stdout).toContain('alice\t');
    expect(listed.code).toBe(0);
    expect(await run(['user', 'list'])).toMatchObject({ code: 0, stderr: '' });
  });
});
