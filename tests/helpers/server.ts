/**
 * Test harness: a real Portico server on an ephemeral loopback port with its own temporary data
 * directory, a small HTTP client that speaks to it like a panel would, and the helpers the
 * integration tests share for logging in, reading the event stream and checking errors.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { expect } from 'vitest';
import { ErrorBody } from '../../shared/index.js';
import { ServerConfig, type ServerConfigInput } from '../../server/src/config.js';
import { startServer, type RunningServer } from '../../server/src/server.js';
import { backend, databaseFor } from './backend.js';

export const ADMIN_PASSWORD = 'admin-password';
export const PASSWORD = 'correct horse battery';

export interface TestServer extends RunningServer {
  dataDir: string;
  admin: Client;
  /** Creates a user through the admin API and logs them in. */
  user(username: string, displayName?: string): Promise<Client>;
  /** Stops this server and starts a new one on the same data directory (and port). */
  restart(): Promise<TestServer>;
  /** Stops the server and removes its data directory. */
  destroy(): Promise<void>;
}

export async function startTestServer(overrides: Partial<ServerConfigInput> = {}, dataDir?: string): Promise<TestServer> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'portico-test-'));
  // On PostgreSQL a fresh database per data directory; a server started again on it finds it again.
  if (backend === 'postgres' && overrides.databaseUrl === undefined) overrides = { ...overrides, databaseUrl: await databaseFor(dir) };
  const config = ServerConfig.parse({
    host: '127.0.0.1',
    port: 0,
    dataDir: dir,
    adminPassword: ADMIN_PASSWORD,
    logLevel: 'silent',
    presenceGraceMs: 300,
    sweepIntervalMs: 25,
    externalSyncMs: 25,
    ...overrides,
  });
  const running = await startServer(config, pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }));
  const admin = await Client.login(running.url, 'admin', ADMIN_PASSWORD);
  const server: TestServer = {
    ...running,
    dataDir: dir,
    admin,
    async user(username, displayName) {
      const res = await admin.post('/api/v1/admin/users', { username, password: PASSWORD, ...(displayName ? { displayName } : {}) });
      if (res.status !== 201) throw new Error(`creating ${username}: ${res.status} ${JSON.stringify(res.body)}`);
      return Client.login(running.url, username, PASSWORD);
    },
    async restart() {
      await running.close();
      // The test's clients live in this process: let them see their pooled connections closed
      // before the new server is asked on the same port (a panel, in its own process, retries).
      await new Promise((resolve) => setTimeout(resolve, 50));
      return startTestServer({ ...overrides, port: running.port }, dir);
    },
    async destroy() {
      await running.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A fetch answer as {status, body (parsed JSON, or the text), headers}. */
export async function reply<T = any>(res: Response): Promise<Reply<T>> {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.status, body: body as T, headers: res.headers };
}

/** fetch() on the test server, answered as a Reply: for requests the Client does not make (forms, raw bytes). */
export const send = (url: string, init: RequestInit) => fetch(url, init).then((res) => reply(res));

export class Client {
  cursor: string | undefined;

  constructor(
    public baseUrl: string,
    public token?: string,
    public username?: string,
  ) {}

  static async login(baseUrl: string, username: string, password: string): Promise<Client> {
    const client = new Client(baseUrl);
    const res = await client.post('/api/v1/login', { username, password });
    if (res.status !== 200) throw new Error(`login ${username}: ${res.status} ${JSON.stringify(res.body)}`);
    client.token = res.body.token;
    client.username = username;
    return client;
  }

  async request<T = any>(method: string, path: string, body?: unknown, init: RequestInit = {}): Promise<Reply<T>> {
    const headers: Record<string, string> = { ...(init.headers as Record<string, string>) };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined && typeof body !== 'string') headers['content-type'] ??= 'application/json';
    const res = await fetch(this.baseUrl + path, {
      ...init,
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return reply<T>(res);
  }

  get<T = any>(path: string, init?: RequestInit) {
    return this.request<T>('GET', path, undefined, init);
  }
  post<T = any>(path: string, body?: unknown) {
    return this.request<T>('POST', path, body ?? {});
  }
  put<T = any>(path: string, body?: unknown) {
    return this.request<T>('PUT', path, body);
  }
  patch<T = any>(path: string, body?: unknown) {
    return this.request<T>('PATCH', path, body);
  }
  delete<T = any>(path: string) {
    return this.request<T>('DELETE', path);
  }

  /** One poll from this client's cursor (from now, the first time); advances the cursor. */
  async poll(wait = 0, init?: RequestInit): Promise<any[]> {
    const query = new URLSearchParams({ wait: String(wait) });
    if (this.cursor !== undefined) query.set('after', this.cursor);
    const res = await this.get(`/api/v1/events?${query}`, init);
    if (res.status !== 200) throw new Error(`poll: ${res.status} ${JSON.stringify(res.body)}`);
    if (res.body.reset) throw new Error(`poll: reset to ${res.body.cursor}`);
    this.cursor = res.body.cursor;
    return res.body.events;
  }

  /** Polls until an event of this type (and matching `where`) arrives; returns it. */
  async waitFor(type: string, where: (e: any) => boolean = () => true, timeoutMs = 5000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const wait = Math.max(0, Math.min(2, (deadline - Date.now()) / 1000));
      for (const e of await this.poll(wait)) if (e.type === type && where(e)) return e;
    }
    throw new Error(`${this.username}: no ${type} event within ${timeoutMs} ms`);
  }
}

/** Waits until `check` holds, checking every 20 ms. */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 5000, what = 'condition') {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A login attempt by a client with no session; answers the reply as it is (Client.login throws instead). */
export const login = (server: TestServer, username: string, password: string) =>
  new Client(server.url).post('/api/v1/login', { username, password });

/** Polls until `count` events matching `where` have arrived; answers them, in order. */
export async function collect(client: Client, count: number, where: (e: any) => boolean = () => true, timeoutMs = 5000): Promise<any[]> {
  const deadline = Date.now() + timeoutMs;
  const got: any[] = [];
  while (got.length < count) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`${client.username}: got ${got.length} of ${count} events: ${JSON.stringify(got.map((e) => e.type))}`);
    got.push(...(await client.poll(Math.min(2, left / 1000))).filter(where));
  }
  return got;
}

/** Everything waiting in the client's stream right now (no hold), over as many polls as it takes. */
export async function drain(client: Client): Promise<any[]> {
  const all: any[] = [];
  for (;;) {
    const events = await client.poll(0);
    all.push(...events);
    if (events.length === 0) return all;
  }
}

/**
 * Asserts the error shape of the contract: this status, and a body of exactly
 * `{error: {code, message}}` (plus `issues` where given) with this code and a non-empty message.
 * `what` labels the failures. With `strict`, also the JSON content type, the shared ErrorBody
 * schema and `x-content-type-options: nosniff`.
 */
export function expectError(
  res: { status: number; body: any; headers: Headers },
  status: number,
  code: string,
  what = '',
  { strict = false } = {},
) {
  const label = `${what} -> ${res.status} ${JSON.stringify(res.body)}`;
  expect(res.status, label).toBe(status);
  if (strict) {
    expect(res.headers.get('content-type'), label).toMatch(/^application\/json/);
    expect(ErrorBody.safeParse(res.body).success, label).toBe(true);
  }
  expect(Object.keys(res.body), label).toEqual(['error']);
  expect(Object.keys(res.body.error).filter((k) => k !== 'issues').sort(), label).toEqual(['code', 'message']);
  expect(res.body.error.code, label).toBe(code);
  expect(typeof res.body.error.message, label).toBe('string');
  expect(res.body.error.message.length, label).toBeGreaterThan(0);
  if (strict) expect(res.headers.get('x-content-type-options'), label).toBe('nosniff');
}
