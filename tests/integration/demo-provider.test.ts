/**
 * The demo provider script (scripts/demo-provider.ts) run as a child process against a real test
 * server, the way `npm run demo:provider -- --once` runs it.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChartsResponse, NoticesResponse, TickerResponse } from '../../shared/index.js';
import { ADMIN_PASSWORD, startTestServer, type Client, type TestServer } from '../helpers/server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHANNELS = ['weather', 'stocks', 'news', 'horoscope', 'company'];

/** Runs the script to its end (asynchronously: the server under test lives in this process). */
function runDemo(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const { PORTICO_ADMIN_PASSWORD: _p, PORTICO_URL: _u, ...inherited } = process.env;
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo-provider.ts', ...args], {
      cwd: ROOT,
      env: { ...inherited, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

let server: TestServer;
let viewer: Client;

beforeAll(async () => {
  server = await startTestServer();
  viewer = await server.user('viewer');
});

afterAll(async () => {
  await server?.destroy();
});

describe('demo provider', () => {
  it('--once: creates the provider, sets the links area and pushes a round to every channel', async () => {
    const run = await runDemo(['--once'], { PORTICO_URL: server.url, PORTICO_ADMIN_PASSWORD: ADMIN_PASSWORD });
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain('created provider demo');
    expect(run.stdout).toMatch(/done: \d+ pushes, 0 failed/);

    const providers = await server.admin.get('/api/v1/admin/providers');
    const demo = providers.body.providers.find((p: any) => p.name === 'demo');
    expect(demo.channels.sort()).toEqual([...CHANNELS].sort());

    // the ticker: items on each channel (new channels are shown by default)
    const ticker = await viewer.get('/api/v1/ticker');
    expect(ticker.status).toBe(200);
    expect(TickerResponse.safeParse(ticker.body).success).toBe(true);
    expect([...ticker.body.channels].sort()).toEqual([...CHANNELS].sort());
    const count = (channel: string) => ticker.body.items.filter((i: any) => i.channel === channel).length;
    for (const channel of CHANNELS) expect(count(channel), channel).toBeGreaterThan(0);
    expect(count('weather')).toBe(4);
    expect(count('horoscope')).toBe(12);
    for (const item of ticker.body.items) expect(Date.parse(item.expiresAt)).toBeGreaterThan(Date.now());

    // charts: a series per symbol on the stocks channel, ordered points with finite values
    const charts = await viewer.get('/api/v1/charts?channel=stocks');
    expect(ChartsResponse.safeParse(charts.body).success).toBe(true);
    expect(charts.body.series.map((s: any) => s.series).sort()).toEqual(['ACME', 'GLOBEX', 'INITECH', 'UMBRELLA']);
    for (const s of charts.body.series) {
      expect(s.unit).toBe('EUR');
      expect(s.points.length).toBeGreaterThan(1);
      const times = s.points.map((p: number[]) => p[0]);
      expect(times).toEqual([...times].sort((a, b) => a - b));
      for (const [, v] of s.points) expect(Number.isFinite(v) && v > 0).toBe(true);
    }

    // a company notice, as sanitized html, ending later
    const notices = await viewer.get('/api/v1/notices');
    expect(NoticesResponse.safeParse(notices.body).success).toBe(true);
    const notice = notices.body.notices.find((n: any) => n.channel === 'company');
    expect(notice?.html).toContain('Fire drill');
    expect(notice.html).toContain('rel="noopener noreferrer"');
    expect(Date.parse(notice.endsAt)).toBeGreaterThan(Date.now());

    // the links area
    const links = await viewer.get('/api/v1/links');
    expect(links.body.html).toMatch(/<a rel="noopener noreferrer" target="_blank" href="https:\/\/[^"]+"/);
    expect(links.body.updatedAt).toEqual(expect.any(String));

    // the channels got their titles
    const channels = await viewer.get('/api/v1/channels');
    expect(channels.body.channels.find((c: any) => c.name === 'weather').title).toBe('Weather');
  });

  it('a second run (password as a flag) rotates the key of the existing provider and pushes with the new one', async () => {
    // Chart points are keyed by time (a second run within the same second replaces its point), so
    // new ticker items are what show the new key pushed.
    const newestId = async () => Math.max(...(await viewer.get('/api/v1/ticker')).body.items.map((i: any) => i.id as number));
    const before = await newestId();
    const run = await runDemo(['--once', '--admin-password', ADMIN_PASSWORD], { PORTICO_URL: server.url });
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain('provider demo exists: rotated its key');
    expect(run.stdout).toMatch(/done: \d+ pushes, 0 failed/);
    const providers = (await server.admin.get('/api/v1/admin/providers')).body.providers;
    expect(providers.filter((p: any) => p.name === 'demo')).toHaveLength(1);
    expect(await newestId()).toBeGreaterThan(before);
  });

  it('--sign: the provider is remade to require signatures, and every push is signed the current way and accepted', async () => {
    const newestId = async () => Math.max(...(await viewer.get('/api/v1/ticker')).body.items.map((i: any) => i.id as number));
    const before = await newestId();
    const run = await runDemo(['--once', '--sign'], { PORTICO_URL: server.url, PORTICO_ADMIN_PASSWORD: ADMIN_PASSWORD });
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain('another signature setting: removed it');
    expect(run.stdout).toContain('signing its pushes');
    expect(run.stdout).toContain('$TS.POST./cgi/ticker.$BODY');
    expect(run.stdout).toMatch(/done: \d+ pushes, 0 failed/);
    const demo = (await server.admin.get('/api/v1/admin/providers')).body.providers.find((p: any) => p.name === 'demo');
    expect(demo.requireSignature).toBe(true);
    expect(await newestId()).toBeGreaterThan(before);
    // Run again with --sign: the provider stays (its key rotated), pushes still signed.
    const again = await runDemo(['--once', '--sign'], { PORTICO_URL: server.url, PORTICO_ADMIN_PASSWORD: ADMIN_PASSWORD });
    expect(again.stdout).toContain('provider demo exists: rotated its key');
    expect(again.stdout).toMatch(/done: \d+ pushes, 0 failed/);
  });

  it('fails clearly with a wrong or missing admin password', async () => {
    const wrong = await runDemo(['--once'], { PORTICO_URL: server.url, PORTICO_ADMIN_PASSWORD: 'not-the-password' });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/login: 401/);
    const missing = await runDemo(['--once'], { PORTICO_URL: server.url });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/admin password/);
  });
});
