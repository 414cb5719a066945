/**
 * `npm run bench` (quick, about 9 minutes; --full about 30) and `npm run bench -- --full`: Portico against the raw
 * node:http floor, Socket.IO (polling only) and Faye (long-polling), same machine, same run.
 *
 * Each measurement starts a fresh server pinned to core 0 (taskset) and drives it from load
 * processes pinned to core 1, over loopback from several 127.0.0.x source addresses (the
 * open-files limit is 20,000 per process, so no process holds more than ~9,000 clients). Every
 * size is measured `--runs` times (default 3), the servers' order rotated between runs
 * (interleaved), and the medians reported, with Portico/peer ratios taken within each run.
 *
 * Options: --full, --runs N, --sizes 1000,5000, --servers portico,raw,socketio,faye,
 *          --compare DIR (also measure the Portico tree in DIR, as "portico@before"),
 *          --scenarios fanout,chat,durable (held polls are always measured), --no-durable, --chat-ms, --out FILE, --smoke (tiny sizes, for the test),
 *          --cpu-prof DIR (profile the Portico server: node --cpu-prof, one .cpuprofile per start).
 */
import { fork, spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClientSpec, Kind } from './load/clients.js';
import { copyTemplate, porticoTemplate, type PorticoFixture } from './portico-setup.js';
import { median, quantile, round } from './stats.js';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');

// ------------------------------------------------------------------ options
const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const opt = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const full = flag('full');
const smoke = flag('smoke');
const sizes = (opt('sizes') ?? (smoke ? '40' : full ? '1000,5000,10000,15000' : '1000,5000')).split(',').map(Number);
const runs = Number(opt('runs') ?? (smoke ? 1 : 3));
const compare = opt('compare');
/** Which parts to run: held (always, it is the setup of the others), fanout, chat, durable. */
const scenarios = new Set((opt('scenarios') ?? 'held,fanout,chat,durable').split(','));
interface ServerDef {
  name: string;
  kind: Kind;
  root?: string;
}
// The smoke test checks the protocol clients that can break (the raw floor's is trivial), in under 20 s.
const servers: ServerDef[] = (opt('servers') ?? (smoke ? 'portico,socketio,faye' : 'portico,raw,socketio,faye')).split(',').map((name) => ({ name, kind: name as Kind, root: name === 'portico' ? repo : undefined }));
if (compare) servers.splice(1, 0, { name: 'portico@before', kind: 'portico', root: resolve(compare) });
/** Chat latency: 1,000 clients in pairs (500 senders), 1,000 msg/s in total. */
const CHAT_CLIENTS = smoke ? 20 : 1000;
const CHAT_RATE = smoke ? 20 : 1000;
/** Idle delivery: the same pairs, 20 msg/s in all (a message every 50 ms, each alone on the server). */
const IDLE_RATE = 20;
const idleMs = smoke ? 300 : full ? 10_000 : 5000;
const chatMs = Number(opt('chat-ms') ?? (smoke ? 300 : full ? 10_000 : 4000));
/** Chat runs at 1,000 clients (the scenario) and, in --full, with every larger N waiting too. */
const chatAt = (n: number) => n === sizes[0] || full;
const durable = !flag('no-durable') && scenarios.has('durable') && servers.some((s) => s.kind === 'portico');
const durableMs = smoke ? 300 : full ? 10_000 : 5000;
const DURABLE_SENDERS = smoke ? 10 : 100;
const FANOUTS = smoke ? 1 : 3;
const restMs = smoke ? 200 : 2000;
const PER_WORKER = 8000;
const ADDRESSES = 16;

// ------------------------------------------------------------------ process helpers
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hr = () => process.hrtime.bigint();

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}
/** user + system CPU time of a process, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

function pinSelf(core: number) {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(core), String(process.pid)], { stdio: 'ignore' });
  } catch {
    console.warn('taskset failed: running unpinned');
  }
}

interface Running {
  proc: ChildProcess;
  port: number;
  dataDir?: string;
  fixture?: PorticoFixture;
}

async function startServer(def: ServerDef, n: number, scratch: string): Promise<Running> {
  let args: string[];
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0' };
  let dataDir: string | undefined;
  let fixture: PorticoFixture | undefined;
  let cwd = repo;
  if (def.kind === 'portico') {
    const t = await porticoTemplate(def.root!, n, join(scratch, def.name.replace(/\W/g, '_')));
    fixture = t.fixture;
    dataDir = mkdtempSync(join(scratch, 'data-'));
    copyTemplate(t.dir, dataDir);
    cwd = def.root!;
    const prof = opt('cpu-prof');
    // As in production: the built server (bin/portico.js builds it when stale); checkouts from
    // before the build existed run under tsx.
    const built = existsSync(join(def.root!, 'server', 'build.mjs'));
    const entry = built ? ['bin/portico.js'] : ['--import', 'tsx', 'server/src/main.ts'];
    args = [process.execPath, ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${resolve(prof)}`] : []), ...entry, 'start'];
    Object.assign(env, { PORTICO_PORT: '0', PORTICO_HOST: '127.0.0.1', PORTICO_DATA_DIR: dataDir, PORTICO_LOG_LEVEL: 'warn', PORTICO_TLS: 'false' });
  } else {
    args = [process.execPath, '--import', 'tsx', join(here, 'peers', `${def.kind}.ts`)];
  }
  // Pinned to core 0; everything else (this runner and the load) stays on core 1.
  const proc = spawn('taskset', ['-c', '0', ...args], { cwd, env, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`${def.name} did not start: ${out}`)), 60_000);
    proc.stdout!.setEncoding('utf8');
    proc.stdout!.on('data', (c: string) => {
      out += c;
      const m = /READY (\d+)/.exec(out) ?? /running at http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok(Number(m[1]));
      }
    });
    proc.once('exit', (code) => fail(new Error(`${def.name} exited with ${code}: ${out}`)));
  });
  proc.stdout!.resume();
  return { proc, port, dataDir, fixture };
}

async function stopServer(s: Running) {
  if (s.proc.exitCode === null) {
    const exited = new Promise((r) => s.proc.once('exit', r));
    s.proc.kill('SIGTERM');
    await Promise.race([exited, sleep(5000)]);
    if (s.proc.exitCode === null) s.proc.kill('SIGKILL');
  }
  if (s.dataDir) rmSync(s.dataDir, { recursive: true, force: true });
}

function post(port: number, path: string, body: string, headers: Record<string, string> = {}) {
  return new Promise<number>((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } }, (res) => {
      res.resume();
      res.on('end', () => ok(res.statusCode ?? 0));
    });
    req.on('error', fail);
    req.end(body);
  });
}

function get(port: number, path: string) {
  return new Promise<string>((ok, fail) => {
    request({ host: '127.0.0.1', port, path }, (res) => {
      let d = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (d += c));
      res.on('end', () => ok(d));
    })
      .on('error', fail)
      .end();
  });
}

/** The ticker item / broadcast each server offers. */
function broadcast(def: ServerDef, s: Running, marker: string) {
  if (def.kind === 'portico') return post(s.port, '/cgi/ticker', JSON.stringify({ channel: 'bench', text: marker }), { authorization: `Bearer ${s.fixture!.providerKey}` });
  if (def.kind === 'raw') return post(s.port, '/broadcast', JSON.stringify({ kind: 'ticker', text: marker }));
  return post(s.port, '/broadcast', JSON.stringify({ text: marker }));
}

// ------------------------------------------------------------------ load workers
class Worker {
  private readonly proc: ChildProcess;
  private readonly ready: Promise<unknown>;
  constructor() {
    this.proc = fork(join(here, 'load', 'worker.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.ready = this.next();
    try {
      execFileSync('taskset', ['-a', '-p', '-c', '1', String(this.proc.pid)], { stdio: 'ignore' });
    } catch {}
  }
  private next<T>(): Promise<T> {
    return new Promise((ok, fail) => {
      const onExit = (code: number) => fail(new Error(`load worker exited with ${code}`));
      this.proc.once('exit', onExit);
      this.proc.once('message', (m) => {
        this.proc.off('exit', onExit);
        ok(m as T);
      });
    });
  }
  async ask<T = any>(msg: object): Promise<T> {
    await this.ready;
    const reply = this.next<T>();
    this.proc.send(msg);
    return reply;
  }
  async stop() {
    await this.ask({ cmd: 'stop' }).catch(() => {});
  }
}

// ------------------------------------------------------------------ one measurement
interface ChatResult {
  sent: number;
  ok: number;
  received: number;
  p50: number;
  p99: number;
  max: number;
  serverCpuMsPerMessage: number;
}

interface Measurement {
  server: string;
  n: number;
  run: number;
  connectMs: number;
  failedStarts: number;
  heldPolls?: number;
  rssBeforeKiB: number;
  rssKiB: number;
  rssPerClientKiB: number;
  cpuRestPct: number;
  fanoutMs: number[];
  /** Server CPU time (user + system) spent per fan-out, wake-ups and re-polls included: robust to a busy machine. */
  fanoutCpuMs: number[];
  fanoutMissing: number;
  chat?: ChatResult;
  /**
   * Before the timed chat runs, every sender sends one message (over 1 s), opening its send
   * connection as a panel that has not sent for a while does. Timed apart: counted in the chat
   * run, that burst of new connections and cold code set the p99 of the whole run (a backlog
   * that took ~2 s to drain), not the steady state the chat scenario measures.
   */
  warmup?: ChatResult;
  /** Idle delivery (IDLE_RATE msg/s) at the first size. */
  idle?: ChatResult;
  durable?: { perSecond: number; ok: number; failed: number; p50: number; p99: number; max: number; serverCpuMsPerMessage: number };
  loadErrors: number;
}

async function measure(def: ServerDef, n: number, run: number, scratch: string): Promise<Measurement> {
  const s = await startServer(def, n, scratch);
  const pid = s.proc.pid!;
  const workers: Worker[] = [];
  try {
    await sleep(smoke ? 50 : 300);
    const rssBeforeKiB = rssKiB(pid);
    const nWorkers = Math.max(1, Math.ceil(n / PER_WORKER));
    const shares: ClientSpec[][] = Array.from({ length: nWorkers }, () => []);
    for (let k = 0; k < n / 2; k++) {
      for (const i of [2 * k, 2 * k + 1]) {
        shares[k % nWorkers]!.push({
          i,
          peer: i ^ 1,
          sender: i % 2 === 0 && i < CHAT_CLIENTS,
          addr: `127.0.0.${2 + (k % ADDRESSES)}`,
          token: s.fixture?.tokens[i],
          chat: s.fixture?.chats[i],
        });
      }
    }
    for (let w = 0; w < nWorkers; w++) workers.push(new Worker());
    const t0 = Date.now();
    const started = await Promise.all(workers.map((w, k) => w.ask<{ failed: number }>({ cmd: 'connect', kind: def.kind, port: s.port, specs: shares[k] })));
    const connectMs = Date.now() - t0;
    await sleep(smoke ? 200 : 1000 + n / 10); // the last polls arrive and are held

    let heldPolls: number | undefined;
    if (def.kind === 'portico') heldPolls = Number(/^portico_held_polls (\d+)/m.exec(await get(s.port, '/metrics'))?.[1]);
    const cpu0 = cpuSeconds(pid);
    await sleep(restMs);
    const cpuRestPct = ((cpuSeconds(pid) - cpu0) / (restMs / 1000)) * 100;
    const rss = rssKiB(pid);

    // Fan-out: one item to all N waiting clients; time until the last one has it.
    const fanoutMs: number[] = [];
    const fanoutCpuMs: number[] = [];
    let fanoutMissing = 0;
    for (let f = 0; scenarios.has('fanout') && f <= FANOUTS; f++) {
      const marker = `F${run}-${f}-${Date.now()}`;
      await Promise.all(workers.map((w) => w.ask({ cmd: 'arm', marker })));
      const cpuBefore = cpuSeconds(pid);
      const start = hr();
      const status = await broadcast(def, s, marker);
      if (status >= 300) throw new Error(`${def.name} broadcast answered ${status}`);
      const got = await Promise.all(workers.map((w) => w.ask<{ got: number; of: number; last: string }>({ cmd: 'collect', timeoutMs: 30_000 })));
      const last = got.reduce((m, g) => (BigInt(g.last) > m ? BigInt(g.last) : m), 0n);
      await sleep(smoke ? 50 : 300 + n / 50); // the re-polls are served too
      const cpu = (cpuSeconds(pid) - cpuBefore) * 1000;
      // The first one warms the path up (Faye's server-side client handshakes on first use).
      if (f > 0) {
        fanoutMs.push(Number(last - start) / 1e6);
        fanoutCpuMs.push(cpu);
        fanoutMissing += got.reduce((m, g) => m + g.of - g.got, 0);
      }
      await sleep(smoke ? 50 : 200 + n / 50); // everyone re-polls and is held again
    }

    /** The first CHAT_CLIENTS clients in pairs, `rate` messages/s in all, for `ms`. */
    const chatRun = async (rate: number, ms: number): Promise<ChatResult> => {
      const senders = Math.min(CHAT_CLIENTS, n) / 2;
      const cpuBefore = cpuSeconds(pid);
      const replies = await Promise.all(
        workers.map((w) => w.ask<{ sent: number; ok: number; latencies: number[] }>({ cmd: 'chat', perSenderPerSecond: rate / senders, durationMs: ms, drainMs: smoke ? 300 : 2000 })),
      );
      const lat = replies.flatMap((r) => r.latencies);
      return {
        sent: replies.reduce((a, r) => a + r.sent, 0),
        ok: replies.reduce((a, r) => a + r.ok, 0),
        received: lat.length,
        p50: quantile(lat, 0.5),
        p99: quantile(lat, 0.99),
        max: Math.max(...lat),
        serverCpuMsPerMessage: ((cpuSeconds(pid) - cpuBefore) * 1000) / Math.max(1, lat.length),
      };
    };
    const warmup = scenarios.has('chat') && (chatAt(n) || n === sizes[0]) ? await chatRun(Math.min(CHAT_CLIENTS, n) / 2, 1000) : undefined; // one message per sender
    const idle = scenarios.has('chat') && n === sizes[0] && !smoke ? await chatRun(IDLE_RATE, idleMs) : undefined;
    const chat = scenarios.has('chat') && chatAt(n) ? await chatRun(CHAT_RATE, chatMs) : undefined;

    let durableResult: Measurement['durable'];
    // The raw floor runs the same closed loop of sends without storing anything: the most
    // messages a second HTTP on this machine carries this way, against which Portico's durable
    // rate is read (Socket.IO and Faye store nothing either, so they add nothing here).
    if (durable && (def.kind === 'portico' || def.kind === 'raw') && n === sizes[0]) {
      const perWorker = Math.ceil(DURABLE_SENDERS / nWorkers);
      const cpuBefore = cpuSeconds(pid);
      const replies = await Promise.all(workers.map((w) => w.ask<{ ok: number; failed: number; latencies: number[] }>({ cmd: 'durable', durationMs: durableMs, senders: perWorker })));
      const lat = replies.flatMap((r) => r.latencies);
      const ok = replies.reduce((a, r) => a + r.ok, 0);
      durableResult = {
        perSecond: ok / (durableMs / 1000),
        ok,
        failed: replies.reduce((a, r) => a + r.failed, 0),
        p50: quantile(lat, 0.5),
        p99: quantile(lat, 0.99),
        max: Math.max(...lat),
        serverCpuMsPerMessage: ((cpuSeconds(pid) - cpuBefore) * 1000) / Math.max(1, ok),
      };
    }
    const loadErrors = (await Promise.all(workers.map((w) => w.ask<{ errors: number }>({ cmd: 'errors' })))).reduce((a, r) => a + r.errors, 0);

    return {
      server: def.name,
      n,
      run,
      connectMs,
      failedStarts: started.reduce((a, r) => a + r.failed, 0),
      heldPolls,
      rssBeforeKiB,
      rssKiB: rss,
      rssPerClientKiB: (rss - rssBeforeKiB) / n,
      cpuRestPct,
      fanoutMs,
      fanoutCpuMs,
      fanoutMissing,
      idle,
      warmup,
      chat,
      durable: durableResult,
      loadErrors,
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await stopServer(s);
  }
}

// ------------------------------------------------------------------ the suite
function machine() {
  let commit = 'unknown';
  let dirty = false;
  try {
    commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
    dirty = execFileSync('git', ['status', '--porcelain', '--', 'server', 'bench'], { cwd: repo, encoding: 'utf8' }).trim() !== '';
  } catch {}
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model,
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    node: process.version,
    kernel: release(),
    loadavgAtStart: loadavg().map((x) => round(x, 2)),
    commit,
    dirty,
    compareRoot: compare,
    at: new Date().toISOString(),
  };
}

type Summary = Record<string, Record<number, Record<string, number | null>>>;

function summarize(all: Measurement[]) {
  const summary: Summary = {};
  const ratios: Record<string, Record<number, Record<string, number | null>>> = {};
  const metricsOf = (m: Measurement): Record<string, number> => ({
    rssPerClientKiB: m.rssPerClientKiB,
    cpuRestPct: m.cpuRestPct,
    fanoutMs: median(m.fanoutMs),
    fanoutCpuMs: median(m.fanoutCpuMs),
    connectMs: m.connectMs,
    ...(m.idle ? { idleP50: m.idle.p50, idleP99: m.idle.p99 } : {}),
    ...(m.chat ? { chatP50: m.chat.p50, chatP99: m.chat.p99, chatMax: m.chat.max, chatCpuMsPerMsg: m.chat.serverCpuMsPerMessage } : {}),
    ...(m.warmup ? { coldP99: m.warmup.p99, coldMax: m.warmup.max } : {}),
    ...(m.durable ? { durablePerSecond: m.durable.perSecond, durableP99: m.durable.p99, durableCpuMsPerMsg: m.durable.serverCpuMsPerMessage } : {}),
  });
  for (const def of servers) {
    summary[def.name] = {};
    for (const n of sizes) {
      const ms = all.filter((m) => m.server === def.name && m.n === n);
      if (ms.length === 0) continue;
      const keys = new Set(ms.flatMap((m) => Object.keys(metricsOf(m))));
      summary[def.name]![n] = Object.fromEntries([...keys].map((k) => [k, round(median(ms.map((m) => metricsOf(m)[k] ?? NaN)))]));
    }
  }
  // Portico/peer ratios within each run, then their median.
  for (const peer of servers.filter((d) => d.name !== 'portico')) {
    const key = `portico/${peer.name}`;
    ratios[key] = {};
    for (const n of sizes) {
      const per: Record<string, number[]> = {};
      for (let r = 0; r < runs; r++) {
        const a = all.find((m) => m.server === 'portico' && m.n === n && m.run === r);
        const b = all.find((m) => m.server === peer.name && m.n === n && m.run === r);
        if (!a || !b) continue;
        const ma = metricsOf(a);
        const mb = metricsOf(b);
        for (const k of Object.keys(ma)) if (k in mb) (per[k] ??= []).push(ma[k]! / mb[k]!);
      }
      ratios[key]![n] = Object.fromEntries(Object.entries(per).map(([k, v]) => [k, round(median(v))]));
    }
  }
  return { summary, ratios };
}

function targets(summary: Summary, ratios: ReturnType<typeof summarize>['ratios']) {
  const p = summary.portico ?? {};
  const out: Array<{ target: string; value: number | null | undefined; met: boolean | null }> = [];
  const at = (n: number) => p[n];
  const check = (target: string, value: number | null | undefined, ok: (v: number) => boolean) =>
    out.push({ target, value, met: value === null || value === undefined ? null : ok(value) });
  const biggest = Math.max(...sizes.filter((n) => at(n)));
  check(`held polls: <= 16 KiB RSS per waiter (N=${biggest})`, at(biggest)?.rssPerClientKiB, (v) => v <= 16);
  const n10 = sizes.includes(10_000) ? 10_000 : biggest;
  check(`fan-out to ${n10} waiters <= 350 ms`, at(n10)?.fanoutMs, (v) => v <= 350);
  if (ratios['portico/raw']) check(`fan-out to ${n10} <= 1.4x raw node:http`, ratios['portico/raw'][n10]?.fanoutMs, (v) => v <= 1.4);
  check(`idle delivery (${IDLE_RATE} msg/s) p50 <= 0.5 ms`, at(sizes[0]!)?.idleP50, (v) => v <= 0.5);
  check(`idle delivery p99 <= 3 ms`, at(sizes[0]!)?.idleP99, (v) => v <= 3);
  if (at(10_000)?.chatP50 !== undefined) {
    check('delivery with 10,000 waiters p50 <= 2 ms', at(10_000)?.chatP50, (v) => v <= 2);
    check('delivery with 10,000 waiters p99 <= 20 ms', at(10_000)?.chatP99, (v) => v <= 20);
  }
  check('durable chat >= 10,000 msg/s', at(sizes[0]!)?.durablePerSecond, (v) => v >= 10_000);
  check('durable chat p99 <= 25 ms', at(sizes[0]!)?.durableP99, (v) => v <= 25);
  return out;
}

function printTable(summary: Summary, ratios: ReturnType<typeof summarize>['ratios'], goals: ReturnType<typeof targets>) {
  const cols = ['rssPerClientKiB', 'cpuRestPct', 'fanoutMs', 'fanoutCpuMs', 'idleP50', 'idleP99', 'chatP50', 'chatP99', 'chatMax', 'chatCpuMsPerMsg', 'coldP99', 'coldMax', 'durablePerSecond', 'durableP99', 'durableCpuMsPerMsg'];
  const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '-' : String(v));
  const lines = [['server', 'N', ...cols].join(' | ')];
  for (const [name, byN] of Object.entries(summary)) for (const [n, m] of Object.entries(byN)) lines.push([name, n, ...cols.map((c) => fmt(m[c]))].join(' | '));
  lines.push('', 'ratios (median of per-run Portico/peer; < 1 is better for Portico)');
  for (const [name, byN] of Object.entries(ratios)) for (const [n, m] of Object.entries(byN)) lines.push([name, n, ...cols.map((c) => fmt(m[c]))].join(' | '));
  lines.push('', 'targets');
  for (const g of goals) lines.push(`${g.met === null ? '?' : g.met ? 'met    ' : 'NOT met'}  ${g.target}: ${fmt(g.value === undefined || g.value === null ? null : round(g.value))}`);
  console.log(lines.join('\n'));
}

async function main() {
  pinSelf(1);
  const scratch = mkdtempSync(join(tmpdir(), 'portico-bench-'));
  const facts = machine();
  const all: Measurement[] = [];
  const began = Date.now();
  try {
    for (const n of sizes) {
      for (let run = 0; run < runs; run++) {
        // Interleaved: each run starts with another server.
        const order = servers.map((_, k) => servers[(k + run) % servers.length]!);
        for (const def of order) {
          const m = await measure(def, n, run, scratch);
          all.push(m);
          console.error(
            `[${Math.round((Date.now() - began) / 1000)}s] ${def.name} N=${n} run ${run + 1}/${runs}: ${round(m.rssPerClientKiB)} KiB/client, fan-out ${m.fanoutMs.map((x) => round(x, 1)).join('/')} ms (server CPU ${m.fanoutCpuMs.map((x) => Math.round(x)).join('/')} ms)` +
              (m.idle ? `, idle p50 ${round(m.idle.p50)} p99 ${round(m.idle.p99)} ms (${m.idle.received}/${m.idle.sent})` : '') +
              (m.warmup ? `, first sends p99 ${round(m.warmup.p99)} max ${round(m.warmup.max)} ms` : '') +
              (m.chat ? `, chat p50 ${round(m.chat.p50)} p99 ${round(m.chat.p99)} ms (${m.chat.received}/${m.chat.sent}, ${round(m.chat.serverCpuMsPerMessage, 3)} CPU ms/msg)` : '') +
              (m.durable ? `, durable ${Math.round(m.durable.perSecond)}/s p99 ${round(m.durable.p99)} ms (${round(m.durable.serverCpuMsPerMessage, 3)} CPU ms/msg)` : '') +
              (m.failedStarts || m.loadErrors || m.fanoutMissing ? ` [failed starts ${m.failedStarts}, load errors ${m.loadErrors}, fan-out missing ${m.fanoutMissing}]` : ''),
          );
        }
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const { summary, ratios } = summarize(all);
  const goals = targets(summary, ratios);
  printTable(summary, ratios, goals);
  const out = opt('out') ?? join(here, 'results', `${smoke ? 'smoke' : full ? 'full' : 'quick'}-${facts.at.replace(/[:.]/g, '-')}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ machine: facts, options: { full, sizes, runs, servers: servers.map((s) => s.name), chatMs, chatClients: CHAT_CLIENTS, chatRate: CHAT_RATE, idleRate: IDLE_RATE, idleMs, durableMs, durableSenders: DURABLE_SENDERS }, summary, ratios, targets: goals, measurements: all }, null, 1));
  console.log(`\nresults: ${out} (${Math.round((Date.now() - began) / 1000)} s)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
