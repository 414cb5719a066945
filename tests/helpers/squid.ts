/**
 * A real Squid (Debian's /usr/sbin/squid) on a free loopback port, with its own configuration,
 * logs and pid file in a temporary directory: the corporate forward proxy of the reliability
 * tests. Squid starts as root and drops to the `proxy` user, so its directory belongs to that
 * user. It runs in the foreground (-N) in its own process group, which stop() kills; an exit
 * hook kills it too if a test run ends without stop().
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProxyAgent, fetch as undiciFetch } from 'undici';

export const SQUID = process.env.SQUID_PATH ?? '/usr/sbin/squid';
export const BASIC_NCSA_AUTH = '/usr/lib/squid/basic_ncsa_auth';

/** A free TCP port on loopback (bound and released; small race, fine on a test machine). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on the port. */
export async function waitForPort(port: number, timeoutMs = 10_000, alive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive()) throw new Error(`the process for port ${port} exited`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${port} after ${timeoutMs} ms`);
}

const running = new Set<ChildProcess>();
let hooked = false;
/** Kills the process group of a detached child (ours), ignoring one already gone. */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL') {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    /* already gone */
  }
}
/** Tracks a detached daemon so that it dies with the test process whatever happens. */
export function track(child: ChildProcess) {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (!hooked) {
    hooked = true;
    process.once('exit', () => {
      for (const c of running) killGroup(c);
    });
  }
}

export interface SquidOptions {
  /** CONNECT is allowed to these ports only (the HTTPS listener). */
  connectPorts: number[];
  /** Plain HTTP is forwarded to these ports only (the "port 80" of the corporate rules). */
  httpPorts: number[];
  /** Require proxy basic authentication with this user (basic_ncsa_auth over an htpasswd file). */
  auth?: { user: string; password: string };
  /** Squid's read_timeout in seconds: an upstream silent this long is cut. */
  readTimeoutSeconds?: number;
  /** Names only Squid can resolve (its hosts_file): a client that reaches them went through Squid. */
  hosts?: Record<string, string>;
  /**
   * Only these request methods pass (e.g. ['GET', 'POST', 'CONNECT']); any other gets Squid's own
   * 403 page (TCP_DENIED/403): the proxies that allow only GET and POST. Default: every method.
   */
  allowMethods?: string[];
}

export interface AccessLogEntry {
  elapsedMs: number;
  client: string;
  /** e.g. TCP_TUNNEL/200, TCP_MISS/200, TCP_DENIED/403 */
  code: string;
  status: number;
  bytes: number;
  method: string;
  url: string;
  user: string;
}

export interface Squid {
  port: number;
  /** http://127.0.0.1:<port> (without credentials). */
  url: string;
  dir: string;
  /** The parsed access log so far (Squid writes a CONNECT line when its tunnel closes). */
  accessLog(): AccessLogEntry[];
  stop(): Promise<void>;
}

export async function startSquid(options: SquidOptions): Promise<Squid> {
  const dir = mkdtempSync(join(tmpdir(), 'portico-squid-'));
  const port = await freePort();
  const lines = [
    `http_port 127.0.0.1:${port}`,
    `pid_filename ${dir}/squid.pid`,
    `access_log stdio:${dir}/access.log squid`,
    `cache_log ${dir}/cache.log`,
    'cache_store_log none',
    'cache deny all',
    'cache_mem 4 MB',
    `coredump_dir ${dir}`,
    'netdb_filename none',
    'pinger_enable off',
    'shutdown_lifetime 0 seconds',
    'cache_effective_user proxy',
    // Identify upstream requests as proxied, like a corporate proxy would.
    'via on',
    'forwarded_for on',
    `acl tls_port port ${options.connectPorts.join(' ')}`,
    `acl plain_port port ${options.httpPorts.join(' ')}`,
    'acl CONNECT method CONNECT',
  ];
  if (options.hosts) {
    writeFileSync(join(dir, 'hosts'), Object.entries(options.hosts).map(([name, ip]) => `${ip} ${name}`).join('\n') + '\n');
    lines.push(`hosts_file ${dir}/hosts`);
  }
  if (options.readTimeoutSeconds !== undefined) lines.push(`read_timeout ${options.readTimeoutSeconds} seconds`);
  if (options.auth) {
    const hash = spawnSync('openssl', ['passwd', '-apr1', options.auth.password], { encoding: 'utf8' });
    if (hash.status !== 0) throw new Error(`openssl passwd: ${hash.stderr}`);
    writeFileSync(join(dir, 'htpasswd'), `${options.auth.user}:${hash.stdout.trim()}\n`);
    lines.push(
      `auth_param basic program ${BASIC_NCSA_AUTH} ${dir}/htpasswd`,
      'auth_param basic children 2',
      'auth_param basic realm Portico test proxy',
      'acl authenticated proxy_auth REQUIRED',
      'http_access deny !authenticated',
    );
  }
  if (options.allowMethods) lines.push(`acl allowed_methods method ${options.allowMethods.join(' ')}`, 'http_access deny !allowed_methods');
  lines.push('http_access allow CONNECT tls_port', 'http_access deny CONNECT', 'http_access allow plain_port', 'http_access deny all');
  writeFileSync(join(dir, 'squid.conf'), lines.join('\n') + '\n');
  // Squid runs as `proxy`: its directory and files must be its own.
  for (const f of ['', 'squid.conf', ...(options.auth ? ['htpasswd'] : []), ...(options.hosts ? ['hosts'] : [])]) chownProxy(join(dir, f));

  const child = spawn(SQUID, ['-N', '-f', join(dir, 'squid.conf')], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  track(child);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  try {
    await waitForPort(port, 15_000, () => child.exitCode === null);
  } catch (err) {
    killGroup(child);
    const log = existsSync(join(dir, 'cache.log')) ? readFileSync(join(dir, 'cache.log'), 'utf8') : '';
    throw new Error(`squid did not start: ${(err as Error).message}\n${stderr}\n${log}`);
  }
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    dir,
    accessLog: () => parseAccessLog(join(dir, 'access.log')),
    async stop() {
      const exited = new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
      killGroup(child, 'SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let proxyIds: { uid: number; gid: number } | undefined;
function chownProxy(path: string) {
  if (process.getuid?.() !== 0) return; // not root: Squid keeps our user
  if (!proxyIds) {
    const id = (flag: string) => Number(spawnSync('id', [flag, 'proxy'], { encoding: 'utf8' }).stdout.trim());
    proxyIds = { uid: id('-u'), gid: id('-g') };
  }
  chownSync(path, proxyIds.uid, proxyIds.gid);
}

function parseAccessLog(file: string): AccessLogEntry[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      // squid native: time elapsed client code/status bytes method URL user hierarchy/peer type
      const [, elapsed, client, code, bytes, method, url, user] = line.trim().split(/\s+/);
      return {
        elapsedMs: Number(elapsed),
        client: client!,
        code: code!,
        status: Number(code!.split('/')[1]),
        bytes: Number(bytes),
        method: method!,
        url: url!,
        user: user!,
      };
    });
}

/** `Basic <base64>` for proxy credentials. */
export const basicAuth = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

export interface ProxiedFetch {
  fetch: typeof fetch;
  /** Requests made through it. */
  count: () => number;
  close(): Promise<void>;
}

/**
 * fetch through the proxy with CONNECT tunnels (undici's ProxyAgent), trusting `ca` for the
 * origin's certificate: how a client reaches an HTTPS server through a corporate proxy.
 */
export function tunnelFetch(proxyUrl: string, { ca, auth }: { ca?: string; auth?: string } = {}): ProxiedFetch {
  const agent = new ProxyAgent({ uri: proxyUrl, ...(auth ? { token: auth } : {}), ...(ca ? { requestTls: { ca } } : {}) });
  let n = 0;
  const f = ((input: any, init?: any) => {
    n++;
    return undiciFetch(input, { ...init, dispatcher: agent });
  }) as unknown as typeof fetch;
  return { fetch: f, count: () => n, close: () => agent.close() };
}

/**
 * fetch for plain http:// URLs through a forward proxy: the request line carries the absolute
 * URL (as browsers send plain HTTP to a proxy), no CONNECT. Bodies are strings or bytes.
 */
export function forwardFetch(proxyUrl: string, { auth }: { auth?: string } = {}): ProxiedFetch {
  const proxy = new URL(proxyUrl);
  const agent = new HttpAgent({ keepAlive: true });
  let n = 0;
  const f = (async (input: any, init: RequestInit = {}) => {
    n++;
    const url = String(input instanceof Request ? input.url : input);
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((v, k) => (headers[k] = v));
    if (auth) headers['proxy-authorization'] = auth;
    const body =
      init.body === undefined || init.body === null
        ? undefined
        : typeof init.body === 'string'
          ? Buffer.from(init.body)
          : Buffer.from(init.body as Uint8Array);
    if (body) headers['content-length'] = String(body.length);
    return new Promise<Response>((resolve, reject) => {
      const req = httpRequest(
        { host: proxy.hostname, port: proxy.port, method: init.method ?? 'GET', path: url, headers, agent, signal: init.signal ?? undefined },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (e) => reject(new TypeError('fetch failed', { cause: e })));
          res.on('end', () => {
            const h = new Headers();
            for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
            const status = res.statusCode ?? 0;
            const nullBody = status === 204 || status === 304 || init.method === 'HEAD';
            resolve(new Response(nullBody ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage, headers: h }));
          });
        },
      );
      req.on('error', (e) => reject(e.name === 'AbortError' ? e : new TypeError('fetch failed', { cause: e })));
      req.end(body);
    });
  }) as typeof fetch;
  return {
    fetch: f,
    count: () => n,
    async close() {
      agent.destroy();
    },
  };
}
