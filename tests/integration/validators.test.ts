/**
 * The outside validators, run against the real server's own output: Redocly's linter (its
 * recommended ruleset, redocly.yaml at the repository root) on /api/v1/openapi.json, and
 * Prometheus's `promtool check metrics` on /metrics. Both tools must be installed (CI installs
 * Debian's prometheus package; @redocly/cli is a dev dependency): a missing tool fails the test.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_ERROR_ROUTES } from '../../server/src/system/openapi.js';
import { startTestServer, type Client, type TestServer } from '../helpers/server.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PROMTOOL = process.env.PROMTOOL ?? 'promtool';

let server: TestServer;
let alice: Client;
let doc: any;
let dir: string;

beforeAll(async () => {
  server = await startTestServer();
  alice = await server.user('val-alice');
  doc = await (await fetch(`${server.url}/api/v1/openapi.json`)).json();
  dir = mkdtempSync(join(tmpdir(), 'portico-validators-'));
});
afterAll(async () => {
  await server?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const operations = () =>
  Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ path, method, op, key: `${method} ${path}` })),
  );
const resolveRef = (x: any) => (x?.$ref ? x.$ref.slice(2).split('/').reduce((o: any, k: string) => o[k], doc) : x);

describe('Redocly lint of /api/v1/openapi.json', () => {
  it('passes the recommended ruleset with no errors and no warnings', () => {
    const file = join(dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(doc, null, 2));
    const run = spawnSync('npx', ['--no-install', 'redocly', 'lint', '--format=json', '--max-problems=1000', '--config', join(ROOT, 'redocly.yaml'), file], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    });
    expect(run.error, 'could not run npx redocly (is @redocly/cli installed?)').toBeUndefined();
    const start = run.stdout.indexOf('{');
    expect(start, `redocly printed no JSON report:\n${run.stdout}\n${run.stderr}`).toBeGreaterThanOrEqual(0);
    const report = JSON.parse(run.stdout.slice(start));
    const problems = (report.problems as any[]).map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location?.[0]?.pointer}`);
    expect(problems).toEqual([]);
    expect(run.status, run.stderr).toBe(0);
  }, 60_000);
});

describe('what the document declares', () => {
  it('the two relay routes are one path, with binary bodies, their headers and security', () => {
    const relay = Object.keys(doc.paths).filter((p) => p.includes('/relay/'));
    expect(relay).toEqual(['/api/v1/calls/{id}/relay/{seqOrMember}']);
    const { put, get } = doc.paths[relay[0]!];
    expect(Object.keys(put.requestBody.content).sort()).toEqual(['audio/webm', 'video/webm']);
    expect(put.requestBody.required).toBe(true);
    expect(put.requestBody.content['video/webm'].schema).toMatchObject({ type: 'string', contentMediaType: 'video/webm' });
    expect(put.responses['200'].content['application/json']).toBeDefined();
    expect(Object.keys(put.responses)).toEqual(expect.arrayContaining(['400', '401', '403', '404', '409', '413', '415']));
    expect(Object.keys(get.responses['200'].content).sort()).toEqual(['audio/webm', 'video/webm']);
    expect(get.responses['200'].content['application/json']).toBeUndefined();
    expect(Object.keys(get.responses['200'].headers).sort()).toEqual(['x-relay-newest', 'x-relay-seq', 'x-relay-skipped']);
    expect(get.responses['204'].content).toBeUndefined();
    expect(get.parameters.find((p: any) => p.in === 'path' && p.name === 'seqOrMember').schema.type).toBe('string');
    expect(put.parameters.find((p: any) => p.in === 'path' && p.name === 'seqOrMember').schema.type).toBe('integer');
  });

  it('login takes no token (security: []), every other API route declares its scheme', () => {
    for (const { key, op, path } of operations()) {
      expect(op.security, key).toBeDefined();
      // Signing in takes no token: login, single sign-on (GET /api/v1/sso, start, callback, exchange), a meeting guest's knock (it gets a guest token).
      if (key === 'post /api/v1/login' || key === 'post /api/v1/guest/knock' || path.startsWith('/api/v1/sso') || !path.startsWith('/api/') || path === '/api/v1/openapi.json') continue;
      expect(op.security.length, key).toBeGreaterThan(0);
    }
    expect(doc.paths['/api/v1/login'].post.security).toEqual([]);
    expect(doc.paths['/healthz'].get.security).toEqual([]);
    for (const path of ['/api/v1/sso', '/api/v1/sso/start', '/api/v1/sso/callback']) expect(doc.paths[path].get.security, path).toEqual([]);
    expect(doc.paths['/api/v1/sso/exchange'].post.security).toEqual([]);
  });

  it('each operation has a 2xx answer, but the two single sign-on redirects, which answer 302 with Location', () => {
    // Redocly's operation-2xx-response is off for these two (redocly.yaml): this test takes its place.
    const redirects = ['get /api/v1/sso/start', 'get /api/v1/sso/callback'];
    for (const { key, op } of operations()) {
      const success = Object.keys(op.responses).filter((s) => /^2\d\d$/.test(s));
      if (redirects.includes(key)) {
        expect(success, key).toEqual([]);
        expect(Object.keys(op.responses['302'].headers), key).toEqual(['Location']);
      } else expect(success.length, key).toBeGreaterThan(0);
    }
  });

  it('each operation declares its 4xx errors with the error schema; 429 with Retry-After, 401 with WWW-Authenticate', () => {
    // The two without input or token have no client error (redocly.yaml turns Redocly's rule off for them).
    const noInput = ['get /healthz', 'get /api/v1/openapi.json', 'get /api/v1/sso'];
    for (const { key, op } of operations()) {
      const errors = Object.keys(op.responses).filter((s) => /^4\d\d$/.test(s));
      if (noInput.includes(key)) expect(errors, key).toEqual([]);
      else expect(errors.length, key).toBeGreaterThan(0);
      for (const s of errors) {
        const res = resolveRef(op.responses[s]);
        expect(resolveRef(res.content['application/json'].schema).properties.error, `${key} ${s}`).toBeDefined();
      }
      if (op.responses['429']) expect(Object.keys(resolveRef(op.responses['429']).headers ?? {}), key).toContain('Retry-After');
    }
    const login = doc.paths['/api/v1/login'].post.responses;
    expect(Object.keys(login)).toEqual(expect.arrayContaining(['400', '401', '413', '415', '429']));
    expect(Object.keys(doc.paths['/cgi/ticker'].post.responses)).toEqual(expect.arrayContaining(['401', '403', '413', '415', '429']));
    expect(Object.keys(resolveRef(doc.paths['/api/v1/me'].get.responses['401']).headers ?? {})).toContain('WWW-Authenticate');
    expect(Object.keys(doc.paths['/api/v1/admin/users'].get.responses)).toEqual(expect.arrayContaining(['401', '403']));
    expect(Object.keys(doc.paths['/api/v1/admin/users'].post.responses)).toContain('409');
    // The per-route list of service errors names only routes that exist.
    const declared = operations().map(({ key }) => key.replace(/\{(\w+)\}/g, ':$1'));
    for (const key of SERVICE_ERROR_ROUTES) expect(declared, key).toContain(key);
  });

  it('documents the routes served outside the route declarations: health, metrics, files, games, updates', () => {
    for (const path of ['/healthz', '/metrics', '/api/v1/openapi.json', '/media/{token}/{sha256}', '/games/{token}/{sha256}/{file}', '/updates/{file}']) {
      expect(doc.paths[path]?.get, path).toBeDefined();
    }
    expect(Object.keys(doc.paths['/metrics'].get.responses['200'].content)).toEqual(['text/plain']);
    for (const path of ['/media/{token}/{sha256}', '/games/{token}/{sha256}/{file}', '/updates/{file}']) {
      const { responses } = doc.paths[path].get;
      expect(Object.keys(responses), path).toEqual(expect.arrayContaining(['200', '206', '304', '404', '416']));
      expect(Object.keys(responses['206'].headers), path).toContain('Content-Range');
      expect(Object.keys(resolveRef(responses['416']).headers ?? {}), path).toContain('Content-Range');
    }
  });

  it('every status the server answers to junk requests is one the document declares', async () => {
    const anonymous = { token: undefined } as unknown as Client;
    const who: Array<[string, Client]> = [['anonymous', anonymous], ['user', alice], ['admin', server.admin]];
    const undeclared: string[] = [];
    const seen = new Set<number>();
    for (const { path, method, op, key } of operations()) {
      if (key === 'post /api/v1/logout') continue; // would end the session the next requests use
      const url = path.replace(/\{(\w+)\}/g, (_, name: string) => (name === 'id' ? '00000000-0000-4000-8000-000000000000' : `no-such-${name}`));
      // Held polls answer at once when told not to wait.
      const query = path.endsWith('/events') || path.includes('/relay/') ? '?wait=0&after=0' : '';
      for (const [label, client] of who) {
        const headers: Record<string, string> = {};
        if (client.token) headers.authorization = `Bearer ${client.token}`;
        const withBody = method !== 'get' && method !== 'delete';
        if (withBody) headers['content-type'] = 'application/json';
        const res = await fetch(`${server.url}${url}${query}`, { method: method.toUpperCase(), headers, body: withBody ? '{}' : undefined });
        await res.arrayBuffer();
        seen.add(res.status);
        if (!(String(res.status) in op.responses)) undeclared.push(`${label} ${key} -> ${res.status}`);
      }
    }
    expect(undeclared).toEqual([]);
    expect([...seen].sort()).toEqual(expect.arrayContaining([200, 400, 401, 403, 404]));
  }, 60_000);
});

describe('promtool check metrics on /metrics', () => {
  it('finds no problem in what the server exports', async () => {
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('portico_held_polls');
    expect(text).toContain('process_cpu_seconds_total'); // the useful default metrics are kept
    let version: string;
    try {
      version = execFileSync(PROMTOOL, ['--version'], { encoding: 'utf8' });
    } catch {
      throw new Error(`promtool is not installed (${PROMTOOL}): install Debian's prometheus package (apt-get install prometheus), as .ci/run does`);
    }
    expect(version).toMatch(/promtool/);
    const check = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(`${check.stdout}${check.stderr}`.trim()).toBe('');
    expect(check.status).toBe(0);
  });
});
