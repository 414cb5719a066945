/**
 * A real Redis (Debian's redis-server) for the tests: on a free loopback port, protected by a
 * password, nothing written to disk, in its own process group; stop() ends it, an exit hook too.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { freePort, killGroup, track, waitForPort } from './squid.js';

export const REDIS_SERVER = process.env.REDIS_SERVER_PATH ?? '/usr/bin/redis-server';
export const HAVE_REDIS = spawnSync('sh', ['-c', `command -v ${REDIS_SERVER}`]).status === 0;

export interface Redis {
  /** redis://:<password>@127.0.0.1:<port> */
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<Redis> {
  const port = await freePort();
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const child: ChildProcess = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--requirepass', password, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'], {
    detached: true,
    stdio: 'ignore',
  });
  track(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitForPort(port, 10_000, () => child.exitCode === null);
  return {
    url: `redis://:${password}@127.0.0.1:${port}`,
    port,
    async stop() {
      if (child.exitCode !== null) return;
      killGroup(child, 'SIGTERM');
      await exited;
    },
  };
}
