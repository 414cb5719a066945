/**
 * The server as a child process (`node bin/portico.js start`, the built server as in production,
 * configured by PORTICO_* variables), so that a test can really SIGKILL it and start it again on
 * the same data directory and port. One node process, no wrapper between us and the server.
 * Tracked so that it dies with the test process. The build is brought up to date first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureServerBuilt } from './cli.js';
import { ADMIN_PASSWORD } from './server.js';
import { freePort, killGroup, track } from './squid.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ChildServer {
  url: string;
  port: number;
  dataDir: string;
  /** The running process (undefined while down). */
  child: ChildProcess | undefined;
  /** Output of every run so far (for failure messages). */
  output(): string;
  /** SIGKILL, and wait until it is gone. */
  kill(): Promise<void>;
  /** Starts it again (same data directory and port); resolves when /healthz answers. */
  start(): Promise<void>;
  /** Kills it and removes the data directory. */
  destroy(): Promise<void>;
}

/**
 * `dataDir`: a directory shared with other nodes (a cluster's), which destroy() leaves alone;
 * a new temporary one otherwise. `wait`: false to answer at once, before /healthz does (start()
 * later, or several nodes started together).
 */
export async function startChildServer(env: Record<string, string> = {}, options: { dataDir?: string; wait?: boolean } = {}): Promise<ChildServer> {
  await ensureServerBuilt();
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'portico-child-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let out = '';
  const server: ChildServer = {
    url,
    port,
    dataDir,
    child: undefined,
    output: () => out,
    async kill() {
      const child = server.child;
      if (!child) return;
      server.child = undefined;
      const exited = new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));
      killGroup(child, 'SIGKILL');
      await exited;
    },
    async start() {
      const child = spawn(process.execPath, [join(ROOT, 'bin/portico.js'), 'start'], {
        cwd: ROOT,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          PORTICO_HOST: '127.0.0.1',
          PORTICO_PORT: String(port),
          PORTICO_DATA_DIR: dataDir,
          PORTICO_ADMIN_PASSWORD: ADMIN_PASSWORD,
          PORTICO_LOG_LEVEL: 'warn',
          PORTICO_TLS: 'false',
          ...env,
        },
      });
      track(child);
      child.stdout!.on('data', (d) => (out += d));
      child.stderr!.on('data', (d) => (out += d));
      server.child = child;
      const deadline = Date.now() + 20_000;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${out}`);
        try {
          const res = await fetch(`${url}/healthz`);
          if (res.ok) return;
        } catch {
          /* not yet */
        }
        if (Date.now() > deadline) throw new Error(`server did not answer /healthz within 20 s:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async destroy() {
      await server.kill();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  if (options.wait !== false) await server.start();
  return server;
}
