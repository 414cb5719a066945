/**
 * `npm run bench` (quick, about 9 minutes; --full about 45) and `npm run bench -- --full`: Portico against the raw
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
 *          --cpu-prof DIR (profile the Portico server: node --cpu-prof, one .cpuprofile per start),
 *          --cpu-prof-load DIR (the same for the load processes),
 *          --portico-only-sizes 19000 (sizes measured for Portico alone), --durable-senders N (100),
 *          --durable-depth D (sends in flight per durable sender, pipelined; 1),
 *          --database postgres (also measure Portico on PostgreSQL, as "portico@postgres": a cluster
 *          started through the test helper, a fresh database per start with the template imported),
 *          --scenarios cluster (issue 15; in --full's default, alone with `--scenarios cluster`): two
 *          nodes on one PostgreSQL holding --cluster-panels N each (15,000; 40 with --smoke), every
 *          pair split over the nodes; cross-node delivery p50/p99 at --cluster-rate R msg/s (1,000),
 *          held-poll RSS per node against node A alone, durable sends/s on PostgreSQL (2 nodes) and
 *          on SQLite (1 node) in the same run (see measureCluster).
 * The issue-20 targets are checked on the run's medians and ratios and written to the JSON.
 */
import { fork, spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClientSpec, Kind } from './load/clients.js';
import { copyTemplate, porticoTemplate, type PorticoFixture } from './portico-setup.js';
import { maximum, median, quantile, round } from './stats.js';

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
/**
 * 19,000 panels is the most one process holds under the 20,000 open-files limit (a server holds
 * 19,000 sockets and its own files; the target: Portico holds them without error). The peers
 * hold them too, so --full measures it for every server, once (a capacity check: held polls,
 * connect storm and fan-out, no chat). `--portico-only-sizes` measures sizes for Portico (and a
 * --compare checkout) alone.
 */
const CAPACITY = 19_000;
const porticoOnly = new Set((opt('portico-only-sizes') ?? '').split(',').filter(Boolean).map(Number));
const sizes = [...new Set([...(opt('sizes') ?? (smoke ? '40' : full ? `1000,5000,10000,15000,${CAPACITY}` : '1000,5000')).split(',').map(Number), ...porticoOnly])];
const runs = Number(opt('runs') ?? (smoke ? 1 : 3));
/** --full measures the capacity size once (its figures are no target's ratio). */
const runsAt = (n: number) => (full && n === CAPACITY ? 1 : runs);
const compare = opt('compare');
/** Which parts to run: held (always, it is the setup of the others), fanout, chat, durable. */
/** `cluster` (issue 15: two nodes on PostgreSQL) is in --full's default; `--scenarios cluster` runs it alone. */
const scenarios = new Set((opt('scenarios') ?? `held,fanout,chat,durable${full ? ',cluster' : ''}`).split(','));
/** Whether the per-size measurements run at all (not with `--scenarios cluster` alone). */
const perSize = [...scenarios].some((x) => x !== 'cluster');
interface ServerDef {
  name: string;
  kind: Kind;
  root?: string;
  /** Portico's store: SQLite in the data directory (default), or PostgreSQL (issue 15). */
  database?: 'postgres';
}
// The smoke test checks the protocol clients that can break (the raw floor's is trivial), in under 20 s.
const servers: ServerDef[] = (opt('servers') ?? (smoke ? 'portico,socketio,faye' : 'portico,raw,socketio,faye')).split(',').map((name) => ({ name, kind: name as Kind, root: name === 'portico' ? repo : undefined }));
if (compare) servers.splice(1, 0, { name: 'portico@before', kind: 'portico', root: resolve(compare) });
if (opt('database') === 'postgres') servers.splice(1, 0, { name: 'portico@postgres', kind: 'portico', root: repo, database: 'postgres' });
else if (opt('database') && opt('database') !== 'sqlite') throw new Error('--database: sqlite or postgres');
const serversAt = (n: number) => (porticoOnly.has(n) ? servers.filter((s) => s.kind === 'portico') : servers);
/** Chat latency: 1,000 clients in pairs (500 senders), 1,000 msg/s in total. */
const CHAT_CLIENTS = smoke ? 20 : 1000;
const CHAT_RATE = smoke ? 20 : 1000;
/** Idle delivery: the same pairs, 20 msg/s in all (a message every 50 ms, each alone on the server). */
const IDLE_RATE = 20;
const idleMs = smoke ? 300 : full ? 10_000 : 5000;
const chatMs = Number(opt('chat-ms') ?? (smoke ? 300 : full ? 10_000 : 4000));
/** Chat runs at 1,000 clients (the issue's scenario) and, in --full, with every larger N waiting too. */
const chatAt = (n: number) => n === sizes[0] || (full && n < CAPACITY && !porticoOnly.has(n));
const durable = !flag('no-durable') && scenarios.has('durable') && servers.some((s) => s.kind === 'portico' || s.kind === 'raw');
const durableMs = smoke ? 300 : full ? 10_000 : 5000;
const DURABLE_SENDERS = Number(opt('durable-senders') ?? (smoke ? 10 : 100));
/** Sends in flight per durable sender (pipelined on its send connection when > 1). */
const DURABLE_DEPTH = Number(opt('durable-depth') ?? 1);
const FANOUTS = smoke ? 1 : 3;
/** Cluster scenario: panels per node (2 nodes), cross-node message rate (msg/s in all). */
const CLUSTER_PER_NODE = Number(opt('cluster-panels') ?? (smoke ? 40 : 15_000));
const CLUSTER_RATE = Number(opt('cluster-rate') ?? (smoke ? 20 : 1000));
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
  stderrTail: () => string;
  dataDir?: string;
  fixture?: PorticoFixture;
}

/**
 * A fresh PostgreSQL database holding the data directory's store (`portico db import`'s code):
 * the cluster is the tests' (tests/helpers/backend.ts), started once, killed at exit. It runs
 * unpinned (its processes are not the server's), beside the load on the other core.
 */
async function postgresCopy(dataDir: string): Promise<string> {
  const { freshDatabase } = await import('../tests/helpers/backend.js');
  const { importSqlite } = await import('../server/src/store/pg-import.js');
  const { default: pg } = await import('pg');
  const url = await freshDatabase();
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  try {
    await importSqlite(join(dataDir, 'portico.db'), pool);
  } finally {
    await pool.end();
  }
  return url;
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
    if (def.database === 'postgres') env.PORTICO_DATABASE_URL = await postgresCopy(dataDir);
    cwd = def.root!;
    // As in production: the built server (bin/portico.js builds it when stale); checkouts from
    // before the build existed run under tsx.
    args = porticoArgs(def.root!);
    Object.assign(env, { PORTICO_PORT: '0', PORTICO_HOST: '127.0.0.1', PORTICO_DATA_DIR: dataDir, PORTICO_LOG_LEVEL: 'warn', PORTICO_TLS: 'false' });
  } else {
    args = [process.execPath, '--import', 'tsx', join(here, 'peers', `${def.kind}.ts`)];
  }
  return { ...(await launch(def.name, args, env, cwd)), dataDir, fixture };
}

/** Portico's command line (the built server, as in production; older checkouts under tsx), profiled with --cpu-prof DIR. */
function porticoArgs(root: string): string[] {
  const prof = opt('cpu-prof');
  const built = existsSync(join(root, 'server', 'build.mjs'));
  const entry = built ? ['bin/portico.js'] : ['--import', 'tsx', 'server/src/main.ts'];
  return [process.execPath, ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${resolve(prof)}`] : []), ...entry, 'start'];
}

/** Starts a server process pinned to core 0 and resolves with its port once it says it is ready. */
async function launch(name: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<Running> {
  // Pinned to core 0; everything else (this runner and the load) stays on core 1.
  const proc = spawn('taskset', ['-c', '0', ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  // Passed through, and its end kept: a server that fails mid-measurement is reported with it.
  let stderrTail = '';
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (c: string) => {
    process.stderr.write(c);
    stderrTail = (stderrTail + c).slice(-4000);
  });
  const port = await new Promise<number>((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`${name} did not start: ${out}`)), 60_000);
    proc.stdout!.setEncoding('utf8');
    proc.stdout!.on('data', (c: string) => {
      out += c;
      const m = /READY (\d+)/.exec(out) ?? /running at http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok(Number(m[1]));
      }
    });
    proc.once('exit', (code) => fail(new Error(`${name} exited with ${code}: ${out}`)));
  });
  proc.stdout!.resume();
  return { proc, port, stderrTail: () => stderrTail };
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
  readonly proc: ChildProcess;
  private readonly ready: Promise<unknown>;
  constructor() {
    const prof = opt('cpu-prof-load');
    this.proc = fork(join(here, 'load', 'worker.ts'), [], {
      execArgv: ['--import', 'tsx', ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${resolve(prof)}`] : [])],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
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
  /** The sends' own answers (the PUT's round trip, the commit included): p50 and p99, ms. */
  answerP50: number;
  answerP99: number;
  serverCpuMsPerMessage: number;
}

interface Measurement {
  server: string;
  n: number;
  run: number;
  /**
   * Connect storm: from the start of all N panels' connecting (64 in flight per load process)
   * until the server holds N polls (Portico's portico_held_polls gauge, the peers' GET /held),
   * checked every 10 ms once every client has started; NaN if it never got there.
   */
  connectMs: number;
  /** Until every client's start finished (handshakes done, first long poll sent): client side only. */
  startsMs: number;
  failedStarts: number;
  /** Polls the server held after the connect (all servers). */
  heldPolls?: number;
  /** Open descriptors of the server with all N connected (the most of after the connect and at the end), and its limit. */
  serverFds?: number;
  serverFdLimit?: number;
  /** Set when the server process ended during the measurement: its exit and the end of its stderr. */
  serverExit?: string;
  rssBeforeKiB: number;
  rssKiB: number;
  rssPerClientKiB: number;
  cpuRestPct: number;
  fanoutMs: number[];
  /** Server CPU time (user + system) spent per fan-out, wake-ups and re-polls included: robust to a busy machine. */
  fanoutCpuMs: number[];
  /** The load processes' CPU over the same window: if it nears the window itself, the load core is the limit. */
  fanoutLoadCpuMs: number[];
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
  durable?: {
    perSecond: number;
    ok: number;
    failed: number;
    p50: number;
    p99: number;
    max: number;
    serverCpuMsPerMessage: number;
    /** Share of one core the server and the load processes used over the run: which side was the limit. */
    serverCpuPct: number;
    loadCpuPct: number;
    loadCpuMsPerMessage: number;
  };
  loadErrors: number;
}

/**
 * The chat scenario on these workers: their senders (`senders` in all) send `rate` messages/s in
 * all for `ms`; latencies as the peers received them; CPU of the server processes `pids`.
 */
async function runChatOn(workers: Worker[], pids: number[], senders: number, rate: number, ms: number, drainMs = smoke ? 300 : 2000): Promise<ChatResult> {
  const cpu = () => pids.reduce((a, pid) => a + cpuSeconds(pid), 0);
  const cpuBefore = cpu();
  const replies = await Promise.all(workers.map((w) => w.ask<{ sent: number; ok: number; latencies: number[]; answered: number[] }>({ cmd: 'chat', perSenderPerSecond: rate / senders, durationMs: ms, drainMs })));
  const lat = replies.flatMap((r) => r.latencies);
  const answered = replies.flatMap((r) => r.answered);
  return {
    sent: replies.reduce((a, r) => a + r.sent, 0),
    ok: replies.reduce((a, r) => a + r.ok, 0),
    received: lat.length,
    p50: quantile(lat, 0.5),
    p99: quantile(lat, 0.99),
    max: maximum(lat),
    answerP50: quantile(answered, 0.5),
    answerP99: quantile(answered, 0.99),
    serverCpuMsPerMessage: ((cpu() - cpuBefore) * 1000) / Math.max(1, lat.length),
  };
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
    await Promise.all(workers.map((w) => w.ask({ cmd: 'ping' })));
    const t0 = hr();
    const started = await Promise.all(workers.map((w, k) => w.ask<{ failed: number }>({ cmd: 'connect', kind: def.kind, port: s.port, specs: shares[k] })));
    const startsMs = Number(hr() - t0) / 1e6;
    // Connected when the server holds every poll (comparable across servers: a client's start
    // ends at a different step of each protocol, and the raw floor's at once).
    let connectMs = NaN;
    for (const deadline = Date.now() + 10_000 + n; Date.now() < deadline; await sleep(10)) {
      if ((await heldNow(def, s).catch(() => 0)) >= n) {
        connectMs = Number(hr() - t0) / 1e6;
        break;
      }
    }
    await sleep(smoke ? 200 : 1000 + n / 10); // the last polls arrive and are held
    const heldPolls = await heldNow(def, s);
    const { fds: serverFds, limit: serverFdLimit } = openFiles(pid);
    const cpu0 = cpuSeconds(pid);
    await sleep(restMs);
    const cpuRestPct = ((cpuSeconds(pid) - cpu0) / (restMs / 1000)) * 100;
    const rss = rssKiB(pid);

    // Fan-out: one item to all N waiting clients; time until the last one has it.
    const fanoutMs: number[] = [];
    const fanoutCpuMs: number[] = [];
    const fanoutLoadCpuMs: number[] = [];
    const loadCpu = () => workers.reduce((a, w) => a + cpuSeconds(w.proc.pid!), 0);
    let fanoutMissing = 0;
    for (let f = 0; scenarios.has('fanout') && f <= FANOUTS; f++) {
      const marker = `F${run}-${f}-${Date.now()}`;
      await Promise.all(workers.map((w) => w.ask({ cmd: 'arm', marker })));
      const cpuBefore = cpuSeconds(pid);
      const loadBefore = loadCpu();
      const start = hr();
      const status = await broadcast(def, s, marker);
      if (status >= 300) throw new Error(`${def.name} broadcast answered ${status}`);
      const got = await Promise.all(workers.map((w) => w.ask<{ got: number; of: number; last: string }>({ cmd: 'collect', timeoutMs: 30_000 })));
      const last = got.reduce((m, g) => (BigInt(g.last) > m ? BigInt(g.last) : m), 0n);
      await sleep(smoke ? 50 : 300 + n / 50); // the re-polls are served too
      const cpu = (cpuSeconds(pid) - cpuBefore) * 1000;
      const load = (loadCpu() - loadBefore) * 1000;
      // The first one warms the path up (Faye's server-side client handshakes on first use).
      if (f > 0) {
        fanoutMs.push(Number(last - start) / 1e6);
        fanoutCpuMs.push(cpu);
        fanoutLoadCpuMs.push(load);
        fanoutMissing += got.reduce((m, g) => m + g.of - g.got, 0);
      }
      await sleep(smoke ? 50 : 200 + n / 50); // everyone re-polls and is held again
    }

    /** The first CHAT_CLIENTS clients in pairs, `rate` messages/s in all, for `ms`. */
    const chatRun = (rate: number, ms: number) => runChatOn(workers, [pid], Math.min(CHAT_CLIENTS, n) / 2, rate, ms);
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
      const loadBefore = loadCpu();
      const replies = await Promise.all(
        workers.map((w) => w.ask<{ ok: number; failed: number; latencies: number[] }>({ cmd: 'durable', durationMs: durableMs, senders: perWorker, depth: DURABLE_DEPTH })),
      );
      const serverCpu = cpuSeconds(pid) - cpuBefore;
      const loadUsed = loadCpu() - loadBefore;
      const lat = replies.flatMap((r) => r.latencies);
      const ok = replies.reduce((a, r) => a + r.ok, 0);
      durableResult = {
        serverCpuPct: (serverCpu / (durableMs / 1000)) * 100,
        loadCpuPct: (loadUsed / (durableMs / 1000)) * 100,
        loadCpuMsPerMessage: (loadUsed * 1000) / Math.max(1, ok),
        perSecond: ok / (durableMs / 1000),
        ok,
        failed: replies.reduce((a, r) => a + r.failed, 0),
        p50: quantile(lat, 0.5),
        p99: quantile(lat, 0.99),
        max: maximum(lat),
        serverCpuMsPerMessage: (serverCpu * 1000) / Math.max(1, ok),
      };
    }
    // The senders' connections are open now too: the most descriptors the server held.
    const serverFdsMax = Math.max(serverFds ?? 0, openFiles(pid).fds ?? 0);
    const loadErrors = (await Promise.all(workers.map((w) => w.ask<{ errors: number }>({ cmd: 'errors' })))).reduce((a, r) => a + r.errors, 0);

    return {
      server: def.name,
      n,
      run,
      connectMs,
      startsMs,
      failedStarts: started.reduce((a, r) => a + r.failed, 0),
      heldPolls,
      serverFds: serverFdsMax,
      serverFdLimit,
      serverExit: exitOf(s),
      rssBeforeKiB,
      rssKiB: rss,
      rssPerClientKiB: (rss - rssBeforeKiB) / n,
      cpuRestPct,
      fanoutMs,
      fanoutCpuMs,
      fanoutLoadCpuMs,
      fanoutMissing,
      idle,
      warmup,
      chat,
      durable: durableResult,
      loadErrors,
    };
  } catch (e) {
    // Say what the server said if it is the one that failed (EMFILE, a crash...).
    throw new Error(`${(e as Error).message}${exitOf(s) ? `; server ${exitOf(s)}` : ''}\n--- end of the server's stderr:\n${s.stderrTail()}`);
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await stopServer(s);
  }
}

/** Polls the server holds now: Portico's own gauge, the peers' GET /held. */
async function heldNow(def: ServerDef, s: Running): Promise<number> {
  if (def.kind === 'portico') return Number(/^portico_held_polls (\d+)/m.exec(await get(s.port, '/metrics'))?.[1] ?? NaN);
  return Number(await get(s.port, '/held'));
}

function openFiles(pid: number) {
  try {
    const limit = Number(/^Max open files\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'))?.[1]);
    return { fds: readdirSync(`/proc/${pid}/fd`).length, limit };
  } catch {
    return { fds: undefined, limit: undefined };
  }
}

/** How the server process ended, if it did, with the end of its stderr. */
function exitOf(s: Running): string | undefined {
  if (s.proc.exitCode === null && s.proc.signalCode === null) return undefined;
  return `exited (code ${s.proc.exitCode}, signal ${s.proc.signalCode}): ${s.stderrTail().slice(-1500)}`;
}

// ------------------------------------------------------------------ the cluster scenario
interface ClusterNode {
  /** RSS before any panel connected. */
  rssBeforeKiB: number;
  /** Node A: with its panels held while it ran alone (the single-node figure); node B: null. */
  rssAloneKiB: number | null;
  /** With both nodes up and every panel held. */
  rssKiB: number;
  heldPolls: number;
  rssPerPanelAloneKiB: number | null;
  rssPerPanelKiB: number;
}
interface ClusterResult {
  perNode: number;
  nodes: ClusterNode[];
  /** Until both nodes held all their panels (node A's connected first, alone; then node B's). */
  connectMs: number[];
  failedStarts: number;
  /** Every message crosses nodes: sent on one node, its reader holds its poll on the other. */
  crossNode: ChatResult;
  durable: { postgres: DurableRun; sqlite: DurableRun };
  loadErrors: number;
}
interface DurableRun {
  perSecond: number;
  ok: number;
  failed: number;
  p50: number;
  p99: number;
}

/**
 * Issue 15: two nodes on one PostgreSQL (the bench's cluster, a fresh database with the template
 * imported), both pinned to core 0 beside each other, one shared data directory, no proxy: the
 * panels are spread over the nodes by pair, each pair's two panels on different nodes, so every
 * chat message crosses nodes. Node A starts alone and its panels connect (its RSS per held poll
 * then is the single-node figure), then node B and its panels. Then cross-node delivery at
 * CLUSTER_RATE msg/s (p50/p99), and durable sends/s through both nodes; last, the same durable
 * run against one SQLite node from the same template (the durable senders and their peers only).
 */
async function measureCluster(scratch: string): Promise<ClusterResult> {
  const P = CLUSTER_PER_NODE;
  const n = 2 * P;
  const t = await porticoTemplate(repo, n, join(scratch, 'portico'));
  const dataDir = mkdtempSync(join(scratch, 'cluster-'));
  copyTemplate(t.dir, dataDir);
  const env: NodeJS.ProcessEnv = { ...process.env, PORTICO_DATABASE_URL: await postgresCopy(dataDir), PORTICO_PORT: '0', PORTICO_HOST: '127.0.0.1', PORTICO_DATA_DIR: dataDir, PORTICO_LOG_LEVEL: 'warn', PORTICO_TLS: 'false' };
  const nodes: Running[] = [];
  const workers: Worker[] = [];
  try {
    // Client i of pair k = floor(i/2) is on node (i + k) % 2: each pair spans both nodes, each node holds P.
    const nodeOf = (i: number) => (i + Math.floor(i / 2)) % 2;
    const perNodeWorkers = Math.max(1, Math.ceil(P / PER_WORKER));
    const connectMs: number[] = [];
    let failedStarts = 0;
    const stats: ClusterNode[] = [];
    for (const node of [0, 1]) {
      const s = await launch(`cluster node ${'AB'[node]}`, porticoArgs(repo), env, repo);
      nodes.push(s);
      await sleep(smoke ? 50 : 300);
      const rssBeforeKiB = rssKiB(s.proc.pid!);
      const shares: ClientSpec[][] = Array.from({ length: perNodeWorkers }, () => []);
      for (let i = 0, k = 0; i < n; i++) {
        if (nodeOf(i) !== node) continue;
        shares[k++ % perNodeWorkers]!.push({ i, peer: i ^ 1, sender: i % 2 === 0 && i < CHAT_CLIENTS, addr: `127.0.0.${2 + (i % ADDRESSES)}`, token: t.fixture.tokens[i], chat: t.fixture.chats[i], port: s.port });
      }
      const mine = shares.map(() => new Worker());
      workers.push(...mine);
      await Promise.all(mine.map((w) => w.ask({ cmd: 'ping' })));
      const t0 = hr();
      const started = await Promise.all(mine.map((w, k) => w.ask<{ failed: number }>({ cmd: 'connect', kind: 'portico', port: s.port, specs: shares[k] })));
      failedStarts += started.reduce((a, r) => a + r.failed, 0);
      let ms = NaN;
      for (const deadline = Date.now() + 10_000 + P; Date.now() < deadline; await sleep(10)) {
        if ((await heldNow({ name: 'portico', kind: 'portico' }, s).catch(() => 0)) >= P) {
          ms = Number(hr() - t0) / 1e6;
          break;
        }
      }
      connectMs.push(ms);
      await sleep(smoke ? 200 : 1000 + P / 10);
      const alone = node === 0 ? rssKiB(s.proc.pid!) : null;
      stats.push({ rssBeforeKiB, rssAloneKiB: alone, rssKiB: NaN, heldPolls: NaN, rssPerPanelAloneKiB: alone === null ? null : (alone - rssBeforeKiB) / P, rssPerPanelKiB: NaN });
    }
    await sleep(smoke ? 200 : 2000);
    for (const [k, s] of nodes.entries()) {
      const st = stats[k]!;
      st.rssKiB = rssKiB(s.proc.pid!);
      st.heldPolls = await heldNow({ name: 'portico', kind: 'portico' }, s);
      st.rssPerPanelKiB = (st.rssKiB - st.rssBeforeKiB) / P;
    }

    // Cross-node delivery: the first CHAT_CLIENTS panels in pairs, CLUSTER_RATE msg/s in all.
    const senders = Math.min(CHAT_CLIENTS, n) / 2;
    // PostgreSQL writes one at a time (tens a second on a busy machine): the smoke run gives its few messages time to arrive.
    const chatRun = (rate: number, ms: number) => runChatOn(workers, nodes.map((x) => x.proc.pid!), senders, rate, ms, smoke ? 5000 : 2000);
    await chatRun(senders, 1000); // every sender opens its send connection first (timed apart, as in the chat scenario)
    const crossNode = await chatRun(CLUSTER_RATE, chatMs);
    const durableOn = async (ws: Worker[]): Promise<DurableRun> => {
      const replies = await Promise.all(ws.map((w) => w.ask<{ ok: number; failed: number; latencies: number[] }>({ cmd: 'durable', durationMs: durableMs, senders: Math.ceil(DURABLE_SENDERS / ws.length), depth: DURABLE_DEPTH })));
      const lat = replies.flatMap((r) => r.latencies);
      const ok = replies.reduce((a, r) => a + r.ok, 0);
      return { perSecond: ok / (durableMs / 1000), ok, failed: replies.reduce((a, r) => a + r.failed, 0), p50: quantile(lat, 0.5), p99: quantile(lat, 0.99) };
    };
    const postgres = await durableOn(workers);
    const loadErrors = (await Promise.all(workers.map((w) => w.ask<{ errors: number }>({ cmd: 'errors' })))).reduce((a, r) => a + r.errors, 0);
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    for (const s of nodes.splice(0)) await stopServer(s);

    // The same durable run on one SQLite node: the durable senders and their peers.
    const sqliteDir = mkdtempSync(join(scratch, 'sqlite-'));
    copyTemplate(t.dir, sqliteDir);
    const { PORTICO_DATABASE_URL: _postgres, ...embedded } = env;
    const single = await launch('sqlite node', porticoArgs(repo), { ...embedded, PORTICO_DATA_DIR: sqliteDir }, repo);
    nodes.push({ ...single, dataDir: sqliteDir });
    const specs: ClientSpec[] = [];
    for (let i = 0; i < Math.min(n, 2 * DURABLE_SENDERS, CHAT_CLIENTS); i++) specs.push({ i, peer: i ^ 1, sender: i % 2 === 0, addr: `127.0.0.${2 + (i % ADDRESSES)}`, token: t.fixture.tokens[i], chat: t.fixture.chats[i] });
    const w = new Worker();
    workers.push(w);
    await w.ask({ cmd: 'connect', kind: 'portico', port: single.port, specs });
    await sleep(smoke ? 100 : 500);
    const sqlite = await durableOn([w]);
    return { perNode: P, nodes: stats, connectMs, failedStarts, crossNode, durable: { postgres, sqlite }, loadErrors };
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${nodes.map((s) => `--- end of a node's stderr (${exitOf(s) ?? 'running'}):\n${s.stderrTail()}`).join('\n')}`);
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    for (const s of nodes) await stopServer(s);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Issue 15's targets for the cluster scenario. */
function clusterTargets(c: ClusterResult | undefined, failure: string | undefined): Target[] {
  const f = (v: number | null | undefined, d = 2) => (v === null || v === undefined || !Number.isFinite(v) ? '-' : String(round(v, d)));
  const missing = failure ? `failed: ${failure.slice(0, 300)}` : 'needs --scenarios cluster (in --full by default)';
  if (!c) return ['cluster: cross-node delivery p99 <= 50 ms', 'cluster: held-poll RSS per node no worse than single-node'].map((target) => ({ target, value: null, detail: `not measured (${missing})`, met: failure ? false : null }));
  const alone = c.nodes[0]!.rssPerPanelAloneKiB!;
  const worst = Math.max(...c.nodes.map((x) => x.rssPerPanelKiB));
  return [
    {
      target: `cluster: cross-node delivery p99 <= 50 ms (${c.perNode} panels per node, ${CLUSTER_RATE} msg/s)`,
      value: round(c.crossNode.p99, 3),
      detail: `p50 ${f(c.crossNode.p50)} ms, p99 ${f(c.crossNode.p99)} ms, max ${f(c.crossNode.max)} ms (${c.crossNode.received}/${c.crossNode.sent} received); the sends answered at p50 ${f(c.crossNode.answerP50)} / p99 ${f(c.crossNode.answerP99)} ms; the nodes' CPU ${f(c.crossNode.serverCpuMsPerMessage, 3)} ms per message`,
      met: c.crossNode.p99 <= 50 && c.crossNode.received === c.crossNode.sent,
    },
    {
      target: 'cluster: held-poll RSS per node no worse than single-node (within 10 %, RSS is noisy)',
      value: round(worst / alone, 3),
      detail: `${f(worst)} KiB per held poll on the worse node with both up (${c.nodes.map((x) => f(x.rssPerPanelKiB)).join(' / ')}), ${f(alone)} KiB on node A alone; durable ${f(c.durable.postgres.perSecond, 0)}/s on PostgreSQL (2 nodes) against ${f(c.durable.sqlite.perSecond, 0)}/s on SQLite (1 node)`,
      met: worst <= alone * 1.1,
    },
  ];
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
type Ratios = Record<string, Record<number, Record<string, number | null>>>;
/** The disk's fsync, probed before each run of each N (bench/fsync.ts), with the storage floor (bench/sqlite-floor.ts). */
interface FsyncProbe {
  n: number;
  run: number;
  samples: number;
  p50: number;
  p99: number;
  max: number;
  /** CPU µs SQLite itself spends storing one message durably, one message per commit (the chat's rate) and 100 (the durable run's). */
  floorMicros?: { one: number; hundred: number };
}
/** A measurement that threw (the server failed to start, crashed, or a load process died). */
interface Failure {
  server: string;
  n: number;
  run: number;
  error: string;
}

const metricsOf = (m: Measurement): Record<string, number> => ({
  rssPerClientKiB: m.rssPerClientKiB,
  cpuRestPct: m.cpuRestPct,
  connectMs: m.connectMs,
  fanoutMs: median(m.fanoutMs),
  fanoutCpuMs: median(m.fanoutCpuMs),
  fanoutLoadCpuMs: median(m.fanoutLoadCpuMs),
  ...(m.idle ? { idleP50: m.idle.p50, idleP99: m.idle.p99 } : {}),
  ...(m.chat ? { chatP50: m.chat.p50, chatP99: m.chat.p99, chatMax: m.chat.max, chatCpuMsPerMsg: m.chat.serverCpuMsPerMessage } : {}),
  ...(m.warmup ? { coldP99: m.warmup.p99, coldMax: m.warmup.max } : {}),
  ...(m.durable
    ? { durablePerSecond: m.durable.perSecond, durableP99: m.durable.p99, durableCpuMsPerMsg: m.durable.serverCpuMsPerMessage, durableLoadCpuPct: m.durable.loadCpuPct, durableServerCpuPct: m.durable.serverCpuPct }
    : {}),
});

function summarize(all: Measurement[], probes: FsyncProbe[]) {
  const summary: Summary = {};
  const ratios: Ratios = {};
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
  const fsync: Record<number, { p50: number | null; p99: number | null; floorOne: number | null; floorHundred: number | null }> = {};
  for (const n of sizes) {
    const ps = probes.filter((p) => p.n === n);
    const floors = ps.flatMap((p) => (p.floorMicros ? [p.floorMicros] : []));
    if (ps.length > 0) {
      fsync[n] = {
        p50: round(median(ps.map((p) => p.p50)), 3),
        p99: round(median(ps.map((p) => p.p99)), 3),
        floorOne: floors.length ? round(median(floors.map((x) => x.one)), 1) : null,
        floorHundred: floors.length ? round(median(floors.map((x) => x.hundred)), 1) : null,
      };
    }
  }
  return { summary, ratios, fsync };
}

interface Target {
  target: string;
  /** The figure compared (a ratio, a margin in ms, KiB...); null when not measured. */
  value: number | null;
  detail: string;
  met: boolean | null;
}

/**
 * Issue 20's targets, on the medians of one run's per-run ratios (and, for "≤ raw p50 + fsync
 * p50", the median over runs of Portico p50 − raw p50 − fsync p50 of that run, ≤ 0).
 */
function targets(all: Measurement[], failures: Failure[], probes: FsyncProbe[], summary: Summary, ratios: Ratios): Target[] {
  const out: Target[] = [];
  const f = (v: number | null | undefined, d = 2) => (v === null || v === undefined || !Number.isFinite(v) ? '-' : String(round(v, d)));
  const ratio = (peer: string, n: number, k: string) => {
    const v = ratios[`portico/${peer}`]?.[n]?.[k];
    return v === null || v === undefined || !Number.isFinite(v) ? null : v;
  };
  const med = (server: string, n: number, k: string) => summary[server]?.[n]?.[k] ?? null;
  const add = (target: string, value: number | null, ok: (v: number) => boolean, detail: string, missing: string) =>
    out.push(value === null ? { target, value: null, detail: `not measured (${missing})`, met: null } : { target, value: round(value, 3), detail, met: ok(value) });
  const need = (n: number, ...names: string[]) => `needs N=${n} with ${names.join(', ')}`;

  /** Median over runs of Portico's `k` − raw's `k` − the run's fsync p50 (ms). */
  const fsyncMargin = (n: number, k: string) => {
    const margins: number[] = [];
    for (let r = 0; r < runs; r++) {
      const a = all.find((m) => m.server === 'portico' && m.n === n && m.run === r);
      const b = all.find((m) => m.server === 'raw' && m.n === n && m.run === r);
      const p = probes.find((x) => x.n === n && x.run === r);
      const va = a && metricsOf(a)[k];
      const vb = b && metricsOf(b)[k];
      if (va !== undefined && vb !== undefined && p) margins.push(va - vb - p.p50);
    }
    return margins.length ? median(margins) : null;
  };
  const fsyncP50 = (n: number) => median(probes.filter((p) => p.n === n).map((p) => p.p50));
  /** Median storage floor at N in ms of CPU per message (bench/sqlite-floor.ts), one message per commit or 100. */
  const floorMs = (n: number, per: 'one' | 'hundred') => {
    const v = probes.filter((p) => p.n === n && p.floorMicros).map((p) => p.floorMicros![per] / 1000);
    return v.length ? median(v) : null;
  };
  /** What a server that stores each message durably cannot beat: the raw floor's CPU plus SQLite's own storing. */
  const boundMs = (n: number, k: string, per: 'one' | 'hundred') => {
    const raw = med('raw', n, k);
    const floor = floorMs(n, per);
    return raw === null || floor === null ? null : raw + floor;
  };

  for (const n of [10_000, 15_000]) {
    const vs = ratio('socketio', n, 'fanoutMs');
    add(`fan-out to ${n}: faster than Socket.IO (ratio < 1)`, vs, (v) => v < 1, `${vs}x: Portico ${f(med('portico', n, 'fanoutMs'))} ms, Socket.IO ${f(med('socketio', n, 'fanoutMs'))} ms`, need(n, 'portico', 'socketio'));
    const vr = ratio('raw', n, 'fanoutMs');
    add(`fan-out to ${n}: <= 1.2x raw`, vr, (v) => v <= 1.2, `${vr}x: Portico ${f(med('portico', n, 'fanoutMs'))} ms, raw ${f(med('raw', n, 'fanoutMs'))} ms`, need(n, 'portico', 'raw'));
  }
  {
    const n = 10_000;
    const vs = ratio('socketio', n, 'chatP99');
    add(`chat with ${n} waiting at 1,000 msg/s: p99 below Socket.IO's (ratio < 1)`, vs, (v) => v < 1, `${vs}x: Portico ${f(med('portico', n, 'chatP99'))} ms, Socket.IO ${f(med('socketio', n, 'chatP99'))} ms`, need(n, 'portico', 'socketio', 'chat (--full)'));
    const m = fsyncMargin(n, 'chatP50');
    add(`chat with ${n} waiting: p50 <= raw p50 + fsync p50 (margin <= 0 ms)`, m, (v) => v <= 0, `margin ${f(m, 3)} ms: Portico ${f(med('portico', n, 'chatP50'))}, raw ${f(med('raw', n, 'chatP50'))} + fsync ${f(fsyncP50(n), 3)} ms`, need(n, 'portico', 'raw', 'chat (--full)'));
  }
  {
    const n = sizes[0]!;
    const m = fsyncMargin(n, 'idleP50');
    add(`idle delivery (N=${n}): p50 <= raw p50 + fsync p50 (margin <= 0 ms)`, m, (v) => v <= 0, `margin ${f(m, 3)} ms: Portico ${f(med('portico', n, 'idleP50'))}, raw ${f(med('raw', n, 'idleP50'))} + fsync ${f(fsyncP50(n), 3)} ms`, 'needs portico and raw, chat scenario, not --smoke');
    const vs = ratio('socketio', n, 'idleP99');
    add(`idle delivery (N=${n}): p99 <= Socket.IO's`, vs, (v) => v <= 1, `${vs}x: Portico ${f(med('portico', n, 'idleP99'))} ms, Socket.IO ${f(med('socketio', n, 'idleP99'))} ms`, 'needs portico and socketio, chat scenario, not --smoke');
  }
  {
    const n = 15_000;
    // A Portico run that never held all N counts as slower (its ratio would be NaN, not "not measured").
    const never = all.some((m) => m.server === 'portico' && m.n === n && !Number.isFinite(m.connectMs));
    const vs = never ? Infinity : ratio('socketio', n, 'connectMs');
    add(`connect storm: ${n} panels connected faster than Socket.IO (ratio < 1)`, vs, (v) => v < 1, `${never ? 'Portico did not hold all N in a run; ' : ''}${vs}x: Portico ${f(med('portico', n, 'connectMs'), 0)} ms, Socket.IO ${f(med('socketio', n, 'connectMs'), 0)} ms until all hold a poll`, need(n, 'portico', 'socketio'));
  }
  {
    const per = sizes.map((n) => [n, ratio('socketio', n, 'chatCpuMsPerMsg')] as const).filter(([, v]) => v !== null) as Array<readonly [number, number]>;
    const worst = per.length ? Math.max(...per.map(([, v]) => v)) : null;
    add(`chat CPU per message <= Socket.IO's (at every N with chat)`, worst, (v) => v <= 1, `worst ${worst}x; ${per.map(([n, v]) => `N=${n}: ${v}x (${f(med('portico', n, 'chatCpuMsPerMsg'), 3)} vs ${f(med('socketio', n, 'chatCpuMsPerMsg'), 3)} ms; durable bound raw + storage ${f(boundMs(n, 'chatCpuMsPerMsg', 'one'), 3)} ms)`).join(', ')}`, 'needs portico and socketio, chat scenario');
  }
  {
    const n = sizes[0]!;
    const vr = ratio('raw', n, 'durablePerSecond');
    // The most any durable server on this core could carry: the raw floor's CPU per send plus SQLite's own storing at 100 per commit.
    const bound = boundMs(n, 'durableCpuMsPerMsg', 'hundred');
    const ceiling = bound === null ? '' : `; ceiling for a durable server ${f(1000 / bound, 0)}/s (${f(1000 / bound / med('raw', n, 'durablePerSecond')!)}x raw: raw ${f(med('raw', n, 'durableCpuMsPerMsg'), 3)} + storage ${f(floorMs(n, 'hundred'), 3)} ms of CPU per send)`;
    add(`durable sends >= 0.8x the raw floor (same load generator)`, vr, (v) => v >= 0.8, `${vr}x: Portico ${f(med('portico', n, 'durablePerSecond'), 0)}/s, raw ${f(med('raw', n, 'durablePerSecond'), 0)}/s; load CPU ${f(med('raw', n, 'durableLoadCpuPct'), 0)} % of a core with raw, raw server ${f(med('raw', n, 'durableServerCpuPct'), 0)} %${ceiling}`, 'needs portico and raw, durable scenario');
  }
  {
    const n = 15_000;
    const v = med('portico', n, 'rssPerClientKiB');
    add(`held polls: <= 12 KiB RSS each at ${n}`, v, (x) => x <= 12, `${f(v)} KiB per held poll (raw ${f(med('raw', n, 'rssPerClientKiB'))}, Socket.IO ${f(med('socketio', n, 'rssPerClientKiB'))}, Faye ${f(med('faye', n, 'rssPerClientKiB'))})`, 'needs N=15000');
  }
  {
    const n = CAPACITY;
    const ms = all.filter((m) => m.server === 'portico' && m.n === n);
    const fails = failures.filter((x) => x.server === 'portico' && x.n === n);
    // All N held at one moment (connectMs is finite then). The count read later may be a few short
    // when connecting took longer than the polls' 25 s: the first ones are re-polling then.
    const clean = (m: Measurement) => Number.isFinite(m.connectMs) && !m.failedStarts && !m.loadErrors && !m.fanoutMissing && !m.serverExit;
    const held = ms.length ? ms.filter(clean).length : null;
    out.push(
      ms.length + fails.length === 0
        ? { target: `${n} panels on one process without error`, value: null, detail: `not measured (needs --sizes with ${CAPACITY}, in --full)`, met: null }
        : {
            target: `${n} panels on one process without error`,
            value: held,
            detail:
              `${ms.length} measurement(s), ${held} clean: all ${n} held after ${ms.map((m) => (Number.isFinite(m.connectMs) ? `${Math.round(m.connectMs)} ms` : 'never')).join('/')} (${ms.map((m) => m.heldPolls).join('/')} held when read later), failed starts ${ms.map((m) => m.failedStarts).join('/')}, load errors ${ms.map((m) => m.loadErrors).join('/')}, fan-out missing ${ms.map((m) => m.fanoutMissing).join('/')}, server fds ${ms.map((m) => m.serverFds).join('/')} of ${ms[0]?.serverFdLimit ?? '?'}` +
              ms.filter((m) => m.serverExit).map((m) => `; server ${m.serverExit}`).join('') +
              fails.map((x) => `; failed: ${x.error.slice(0, 500)}`).join(''),
            met: fails.length === 0 && ms.every(clean),
          },
    );
  }
  return out;
}

function printTable(summary: Summary, ratios: Ratios, fsync: ReturnType<typeof summarize>['fsync'], goals: Target[], failures: Failure[]) {
  const cols = ['rssPerClientKiB', 'cpuRestPct', 'connectMs', 'fanoutMs', 'fanoutCpuMs', 'fanoutLoadCpuMs', 'idleP50', 'idleP99', 'chatP50', 'chatP99', 'chatMax', 'chatCpuMsPerMsg', 'coldP99', 'coldMax', 'durablePerSecond', 'durableP99', 'durableCpuMsPerMsg', 'durableServerCpuPct', 'durableLoadCpuPct'];
  const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '-' : String(v));
  const lines = [['server', 'N', ...cols].join(' | ')];
  for (const [name, byN] of Object.entries(summary)) for (const [n, m] of Object.entries(byN)) lines.push([name, n, ...cols.map((c) => fmt(m[c]))].join(' | '));
  lines.push('', 'disk fsync (4 KiB appended + fsync, 300 times before each run of each N, pinned like the servers): medians of the runs');
  for (const [n, v] of Object.entries(fsync)) lines.push(`N=${n}: fsync p50 ${fmt(v.p50)} ms, p99 ${fmt(v.p99)} ms; storage floor ${fmt(v.floorOne)} µs of CPU per message at one per commit, ${fmt(v.floorHundred)} µs at 100`);
  lines.push('', 'ratios (median of per-run Portico/peer; < 1 is better for Portico)');
  for (const [name, byN] of Object.entries(ratios)) for (const [n, m] of Object.entries(byN)) lines.push([name, n, ...cols.map((c) => fmt(m[c]))].join(' | '));
  if (failures.length) {
    lines.push('', 'failed measurements');
    for (const x of failures) lines.push(`${x.server} N=${x.n} run ${x.run + 1}: ${x.error}`);
  }
  lines.push('', 'targets (issue 20)');
  for (const g of goals) lines.push(`${g.met === null ? 'n/a    ' : g.met ? 'met    ' : 'NOT met'}  ${g.target}: ${g.detail}`);
  console.log(lines.join('\n'));
}

/** A bench script's last JSON line, from a child pinned to the servers' core. */
const pinnedProbe = (script: string, ...args: string[]) =>
  JSON.parse(execFileSync('taskset', ['-c', '0', process.execPath, '--import', 'tsx', join(here, script), ...args], { cwd: repo, encoding: 'utf8' }).trim().split('\n').pop()!);

/** The disk's fsync now and SQLite's own cost of storing a message, in the scratch directory. */
async function probeFsync(dir: string): Promise<Omit<FsyncProbe, 'n' | 'run'>> {
  const fsync = pinnedProbe('fsync.ts', dir, String(smoke ? 50 : 300));
  const one = pinnedProbe('sqlite-floor.ts', dir, String(smoke ? 100 : 2000), '1');
  const hundred = pinnedProbe('sqlite-floor.ts', dir, String(smoke ? 1000 : 20_000), '100');
  return { ...fsync, floorMicros: { one: one.cpuMicrosPerMessage, hundred: hundred.cpuMicrosPerMessage } };
}

async function main() {
  pinSelf(1);
  const scratch = mkdtempSync(join(tmpdir(), 'portico-bench-'));
  const facts = machine();
  const all: Measurement[] = [];
  const failures: Failure[] = [];
  const probes: FsyncProbe[] = [];
  const began = Date.now();
  let cluster: ClusterResult | undefined;
  let clusterFailure: string | undefined;
  try {
    for (const n of perSize ? sizes : []) {
      for (let run = 0; run < runsAt(n); run++) {
        const probe = { ...(await probeFsync(scratch)), n, run };
        probes.push(probe);
        console.error(`[${Math.round((Date.now() - began) / 1000)}s] N=${n} run ${run + 1}/${runsAt(n)}: disk fsync p50 ${round(probe.p50, 3)} p99 ${round(probe.p99, 3)} ms; storage floor ${round(probe.floorMicros!.one, 1)} / ${round(probe.floorMicros!.hundred, 1)} µs a message at 1 / 100 per commit`);
        // Interleaved: each run starts with another server.
        const present = serversAt(n);
        const order = present.map((_, k) => present[(k + run) % present.length]!);
        for (const def of order) {
          let m: Measurement;
          try {
            m = await measure(def, n, run, scratch);
          } catch (e) {
            const error = (e as Error).message;
            failures.push({ server: def.name, n, run, error });
            console.error(`[${Math.round((Date.now() - began) / 1000)}s] ${def.name} N=${n} run ${run + 1}/${runsAt(n)} FAILED: ${error}`);
            continue;
          }
          all.push(m);
          console.error(
            `[${Math.round((Date.now() - began) / 1000)}s] ${def.name} N=${n} run ${run + 1}/${runsAt(n)}: ${round(m.rssPerClientKiB)} KiB/client, all held in ${Math.round(m.connectMs)} ms (${m.heldPolls} held, ${m.serverFds} fds), fan-out ${m.fanoutMs.map((x) => round(x, 1)).join('/')} ms (server CPU ${m.fanoutCpuMs.map((x) => Math.round(x)).join('/')} ms)` +
              (m.idle ? `, idle p50 ${round(m.idle.p50)} p99 ${round(m.idle.p99)} ms (${m.idle.received}/${m.idle.sent})` : '') +
              (m.warmup ? `, first sends p99 ${round(m.warmup.p99)} max ${round(m.warmup.max)} ms` : '') +
              (m.chat ? `, chat p50 ${round(m.chat.p50)} p99 ${round(m.chat.p99)} ms (${m.chat.received}/${m.chat.sent}, ${round(m.chat.serverCpuMsPerMessage, 3)} CPU ms/msg)` : '') +
              (m.durable
                ? `, durable ${Math.round(m.durable.perSecond)}/s p99 ${round(m.durable.p99)} ms (${round(m.durable.serverCpuMsPerMessage, 3)} CPU ms/msg; server ${Math.round(m.durable.serverCpuPct)} %, load ${Math.round(m.durable.loadCpuPct)} % of a core)`
                : '') +
              (m.failedStarts || m.loadErrors || m.fanoutMissing || m.serverExit ? ` [failed starts ${m.failedStarts}, load errors ${m.loadErrors}, fan-out missing ${m.fanoutMissing}${m.serverExit ? `, server ${m.serverExit}` : ''}]` : ''),
          );
        }
      }
    }
    if (scenarios.has('cluster')) {
      console.error(`[${Math.round((Date.now() - began) / 1000)}s] cluster: 2 nodes on PostgreSQL, ${CLUSTER_PER_NODE} panels each`);
      try {
        cluster = await measureCluster(scratch);
        const c = cluster;
        console.error(
          `[${Math.round((Date.now() - began) / 1000)}s] cluster: held ${c.nodes.map((x) => x.heldPolls).join(' + ')} (connected in ${c.connectMs.map((x) => Math.round(x)).join(' + ')} ms), ` +
            `${c.nodes.map((x) => round(x.rssPerPanelKiB)).join(' / ')} KiB per held poll (node A alone ${round(c.nodes[0]!.rssPerPanelAloneKiB!)}), ` +
            `cross-node p50 ${round(c.crossNode.p50)} p99 ${round(c.crossNode.p99)} ms (${c.crossNode.received}/${c.crossNode.sent}; sends answered p50 ${round(c.crossNode.answerP50)} p99 ${round(c.crossNode.answerP99)} ms; nodes' CPU ${round(c.crossNode.serverCpuMsPerMessage, 3)} ms/msg), ` +
            `durable ${Math.round(c.durable.postgres.perSecond)}/s on PostgreSQL, ${Math.round(c.durable.sqlite.perSecond)}/s on SQLite`,
        );
      } catch (e) {
        clusterFailure = (e as Error).message;
        failures.push({ server: 'portico cluster', n: 2 * CLUSTER_PER_NODE, run: 0, error: clusterFailure });
        console.error(`cluster FAILED: ${clusterFailure}`);
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const { summary, ratios, fsync } = summarize(all, probes);
  const goals = [...targets(all, failures, probes, summary, ratios), ...(scenarios.has('cluster') ? clusterTargets(cluster, clusterFailure) : [])];
  printTable(summary, ratios, fsync, goals, failures);
  const out = opt('out') ?? join(here, 'results', `${smoke ? 'smoke' : full ? 'full' : 'quick'}-${facts.at.replace(/[:.]/g, '-')}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify(
      {
        machine: facts,
        options: { full, sizes, porticoOnlySizes: [...porticoOnly], runs, servers: servers.map((s) => s.name), chatMs, chatClients: CHAT_CLIENTS, chatRate: CHAT_RATE, idleRate: IDLE_RATE, idleMs, durableMs, durableSenders: DURABLE_SENDERS, durableDepth: DURABLE_DEPTH },
        summary,
        ratios,
        fsync: { byN: fsync, probes },
        targets: goals,
        cluster: cluster ? { ...cluster, rate: CLUSTER_RATE, chatMs } : undefined,
        failures,
        measurements: all,
      },
      null,
      1,
    ),
  );
  console.log(`\nresults: ${out} (${Math.round((Date.now() - began) / 1000)} s)`);
}

// Exit when done: the PostgreSQL cluster of --database postgres and the cluster scenario (a
// child whose pipes keep the process alive) is killed by its exit hook.
main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
