/**
 * A real nginx (Debian's /usr/sbin/nginx) on a free loopback port as a buffering reverse proxy
 * in front of a server: its own configuration, logs, temp paths and pid file in a temporary
 * directory, in the foreground in its own process group, which stop() kills (and an exit hook,
 * if a run ends without stop()).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, killGroup, track, waitForPort } from './squid.js';

export const NGINX = process.env.NGINX_PATH ?? '/usr/sbin/nginx';

export interface Nginx {
  port: number;
  url: string;
  dir: string;
  /** Lines of the access log: `<status> <request_time> "<request>" <upstream_addr>` (the node(s) tried, comma-separated). */
  accessLog(): Array<{ status: number; requestTime: number; request: string; upstream: string }>;
  stop(): Promise<void>;
}

export async function startNginx(upstream: string, { extra = '' }: { extra?: string } = {}): Promise<Nginx> {
  return startNginxWith(
    (port) => `
  server {
    listen 127.0.0.1:${port};
    client_max_body_size 20m;
    location / {
      proxy_pass ${upstream};
      # The defaults a site usually has: answers buffered, HTTP/1.0 upstream, gzip of JSON.
      proxy_buffering on;
      proxy_buffer_size 16k;
      proxy_buffers 8 16k;
      proxy_read_timeout 90s;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      gzip on;
      gzip_proxied any;
      gzip_min_length 0;
      gzip_types application/json;
      ${extra}
    }
  }`,
  );
}

/**
 * nginx with the given contents of its `http` block (upstreams, servers), which listens on the
 * port it is given (the cluster tests' round robin over several nodes).
 */
export async function startNginxWith(site: (port: number) => string): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), 'portico-nginx-'));
  const port = await freePort();
  const conf = `
daemon off;
master_process on;
worker_processes 1;
${process.getuid?.() === 0 ? 'user root root;' : ''}
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 512; }
http {
  log_format portico '$status $request_time "$request" $upstream_addr';
  access_log ${dir}/access.log portico;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${site(port)}
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const child = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  track(child);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  try {
    await waitForPort(port, 10_000, () => child.exitCode === null);
  } catch (err) {
    killGroup(child);
    const log = existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '';
    throw new Error(`nginx did not start: ${(err as Error).message}\n${stderr}\n${log}`);
  }
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    dir,
    accessLog() {
      const file = join(dir, 'access.log');
      if (!existsSync(file)) return [];
      return readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const m = /^(\d+) ([\d.]+) "(.*)" (\S.*)$/.exec(line)!;
          return { status: Number(m[1]), requestTime: Number(m[2]), request: m[3]!, upstream: m[4]! };
        });
    },
    async stop() {
      const exited = new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
      killGroup(child, 'SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
