/**
 * One load process (forked by bench/run.ts, pinned to the load core). Holds its share of the
 * simulated panels and runs what the runner asks over IPC. Timestamps are process.hrtime
 * (CLOCK_MONOTONIC, shared by all processes of the machine), so the runner can compare them.
 */
import { makePanel, setQuiet, type ClientSpec, type Kind, type Panel } from './clients.js';

type Command =
  | { cmd: 'connect'; kind: Kind; port: number; specs: ClientSpec[] }
  | { cmd: 'arm'; marker: string }
  | { cmd: 'collect'; timeoutMs: number }
  | { cmd: 'chat'; perSenderPerSecond: number; durationMs: number; drainMs: number }
  | { cmd: 'durable'; durationMs: number; senders: number; depth: number }
  | { cmd: 'errors' }
  | { cmd: 'ping' }
  | { cmd: 'stop' };

let panels: Panel[] = [];
const now = () => process.hrtime.bigint();

// What the clients are waiting for right now.
let fanout: { marker: string; got: Set<Panel>; last: bigint; done: () => void; all: Promise<void> } | undefined;
let latencies: number[] = [];

function onItem(panel: Panel, kind: 'chat' | 'ticker', text: string) {
  if (kind === 'ticker') {
    if (fanout && text === fanout.marker && !fanout.got.has(panel)) {
      fanout.got.add(panel);
      fanout.last = now();
      if (fanout.got.size === panels.length) fanout.done();
    }
  } else if (text.startsWith('L')) {
    latencies.push(Number(now() - BigInt(text.slice(1))) / 1e6);
  }
}

async function connect(kind: Kind, port: number, specs: ClientSpec[]) {
  panels = specs.map((s) => makePanel(kind, s, port, onItem));
  let failed = 0;
  let next = 0;
  // A bounded number of starts in flight, as panels would trickle in.
  const lane = async () => {
    while (next < panels.length) {
      const p = panels[next++]!;
      try {
        await p.start();
      } catch (e) {
        if (failed++ < 3) console.error(`start failed: ${(e as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 64 }, lane));
  return { failed };
}

/** Armed before the item is sent, so even the fastest arrival is counted. */
function arm(marker: string) {
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  fanout = { marker, got: new Set(), last: 0n, done, all };
  if (panels.length === 0) done();
}

async function collect(timeoutMs: number) {
  const f = fanout!;
  await Promise.race([f.all, new Promise((r) => setTimeout(r, timeoutMs))]);
  fanout = undefined;
  return { got: f.got.size, of: panels.length, last: String(f.last) };
}

async function runChat(perSenderPerSecond: number, durationMs: number, drainMs: number) {
  latencies = [];
  const senders = panels.filter((p) => p.spec.sender);
  let sent = 0;
  let ok = 0;
  const answered: number[] = [];
  const period = 1000 / perSenderPerSecond;
  const end = Date.now() + durationMs;
  const timers = senders.map((p, k) => {
    // Spread the senders over the period so the total rate is smooth.
    const fire = () => {
      if (Date.now() >= end) return;
      sent++;
      const at = now();
      p.send(`L${at}`).then(
        (s) => {
          // How long the send's answer took: with delivery, it tells a slow commit from a slow wake-up.
          answered.push(Number(now() - at) / 1e6);
          if (s < 300) ok++;
        },
        () => p.errors++,
      );
    };
    const t0 = setTimeout(() => {
      fire();
      timers[k] = setInterval(fire, period);
    }, (period * k) / senders.length);
    return t0;
  });
  await new Promise((r) => setTimeout(r, durationMs + drainMs)); // then let the last ones arrive
  timers.forEach((t) => clearInterval(t));
  const result = { sent, ok, latencies, answered };
  latencies = [];
  return result;
}

/**
 * `count` senders in a closed loop, each with `depth` sends in flight on its send connection
 * (pipelined when depth > 1). Poll answers are not decoded meanwhile (quiet).
 */
async function runDurable(durationMs: number, count: number, depth: number) {
  const senders = panels.filter((p) => p.spec.sender).slice(0, count);
  const lat: number[] = [];
  let ok = 0;
  let failed = 0;
  const end = Date.now() + durationMs;
  setQuiet(true);
  await Promise.all(
    senders.flatMap((p) => Array.from({ length: depth }, () => p)).map(async (p) => {
      while (Date.now() < end) {
        const t = now();
        try {
          const s = await p.send('D durable throughput');
          if (s < 300) ok++;
          else failed++;
        } catch {
          failed++;
        }
        lat.push(Number(now() - t) / 1e6);
      }
    }),
  );
  setQuiet(false);
  return { ok, failed, latencies: lat };
}

process.on('message', async (m: Command) => {
  let reply: unknown;
  switch (m.cmd) {
    case 'connect':
      reply = await connect(m.kind, m.port, m.specs);
      break;
    case 'arm':
      arm(m.marker);
      reply = { armed: true };
      break;
    case 'collect':
      reply = await collect(m.timeoutMs);
      break;
    case 'chat':
      reply = await runChat(m.perSenderPerSecond, m.durationMs, m.drainMs);
      break;
    case 'durable':
      reply = await runDurable(m.durationMs, m.senders, m.depth);
      break;
    case 'ping': // loaded and listening: the connect storm's clock starts after this
      reply = {};
      break;
    case 'errors':
      reply = { errors: panels.reduce((n, p) => n + p.errors, 0) };
      break;
    case 'stop':
      panels.forEach((p) => p.stop());
      process.send!({ ok: true }, () => process.exit(0));
      return;
  }
  process.send!(reply);
});
process.send!({ ready: true });
