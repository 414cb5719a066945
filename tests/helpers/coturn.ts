/**
 * A real coturn (Debian's /usr/bin/turnserver) on loopback with the configuration README
 * documents (use-auth-secret + static-auth-secret: the TURN REST API credentials Portico hands
 * out), on a free port, in its own temporary directory; and a minimal TURN client (an Allocate
 * over TCP with long-term credentials, RFC 5766/8489) to check that coturn accepts a credential.
 *
 * startCoturn({secret}) → {port, tlsPort?, urls, stop()}. `urls` are what PORTICO_TURN_URLS would
 * hold (TCP, plus TLS when a certificate is given). Loopback peers are allowed here (tests relay
 * to 127.0.0.1); README's production config denies private ranges instead.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TURNSERVER = process.env.TURNSERVER_PATH ?? '/usr/bin/turnserver';
export const TURN_REALM = 'portico.test';

export interface CoturnOptions {
  /** coturn static-auth-secret = Portico's PORTICO_TURN_SECRET. */
  secret: string;
  /** A TLS listener (turns:) too: with these PEM files, or `true` for a self-signed one made here. */
  tls?: boolean | { cert: string; key: string };
  /** More configuration lines (e.g. README's); an option given here replaces the helper's own. */
  extra?: string[];
}

export interface Coturn {
  /** TCP (and UDP) listening port. */
  port: number;
  /** TLS listening port, when `tls` was given. */
  tlsPort?: number;
  /** e.g. ['turn:127.0.0.1:PORT?transport=tcp', 'turn:127.0.0.1:PORT?transport=udp'(, 'turns:…')]. */
  urls: string[];
  dir: string;
  /** coturn's log so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number, alive: () => boolean) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive()) throw new Error('turnserver exited');
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
const kill = (child: ChildProcess) => {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
};

export async function startCoturn(options: CoturnOptions): Promise<Coturn> {
  const dir = mkdtempSync(join(tmpdir(), 'portico-coturn-'));
  const port = await freePort();
  const tlsPort = options.tls ? await freePort() : undefined;
  const tls = options.tls === true ? selfSigned(dir) : options.tls || undefined;
  // A relay port range of its own, so parallel test files do not collide.
  const minPort = 20_000 + Math.floor(Math.random() * 400) * 100;
  const defaults = [
    'listening-ip=127.0.0.1',
    'relay-ip=127.0.0.1',
    `listening-port=${port}`,
    ...(tls
      ? [`tls-listening-port=${tlsPort}`, `cert=${tls.cert}`, `pkey=${tls.key}`, 'no-dtls']
      : ['no-tls', 'no-dtls']),
    `min-port=${minPort}`,
    `max-port=${minPort + 99}`,
    'use-auth-secret',
    `static-auth-secret=${options.secret}`,
    `realm=${TURN_REALM}`,
    'fingerprint',
    'no-cli',
    'no-multicast-peers',
    'allow-loopback-peers',
    `userdb=${join(dir, 'turndb')}`,
    `pidfile=${join(dir, 'turnserver.pid')}`,
    `log-file=${join(dir, 'turn.log')}`,
    'simple-log',
    'no-stdout-log',
  ];
  const extra = options.extra ?? [];
  const key = (line: string) => line.split('=')[0]!.trim();
  const replaced = new Set(extra.map(key).filter((k) => !k.endsWith('-peer-ip'))); // peer-ip rules add up
  const lines = [...defaults.filter((l) => !replaced.has(key(l))), ...extra];
  const conf = join(dir, 'turnserver.conf');
  writeFileSync(conf, lines.join('\n') + '\n');
  const child = spawn(TURNSERVER, ['-c', conf], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  process.once('exit', () => kill(child));
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const log = () => (existsSync(join(dir, 'turn.log')) ? readFileSync(join(dir, 'turn.log'), 'utf8') : '') + stderr;
  try {
    await waitForPort(port, 10_000, () => child.exitCode === null);
    if (tlsPort) await waitForPort(tlsPort, 10_000, () => child.exitCode === null);
  } catch (err) {
    kill(child);
    const text = log();
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`coturn did not start: ${(err as Error).message}\n${text}`);
  }
  const urls = [`turn:127.0.0.1:${port}?transport=tcp`];
  if (!lines.includes('no-udp')) urls.push(`turn:127.0.0.1:${port}?transport=udp`);
  if (tlsPort) urls.push(`turns:127.0.0.1:${tlsPort}?transport=tcp`);
  return {
    port,
    ...(tlsPort ? { tlsPort } : {}),
    urls,
    dir,
    log,
    async stop() {
      const exited = new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));
      kill(child);
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A throwaway self-signed certificate for 127.0.0.1 (the TURN client here does not verify it). */
function selfSigned(dir: string) {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const made = spawnSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert,
  ], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`openssl: ${made.stderr}`);
  return { cert, key };
}

// ---------------------------------------------------------------- a minimal TURN client
const MAGIC = 0x2112a442;
const ATTR = {
  USERNAME: 0x0006,
  MESSAGE_INTEGRITY: 0x0008,
  ERROR_CODE: 0x0009,
  REALM: 0x0014,
  NONCE: 0x0015,
  XOR_RELAYED_ADDRESS: 0x0016,
  REQUESTED_TRANSPORT: 0x0019,
  FINGERPRINT: 0x8028,
};
const ALLOCATE = 0x0003;

function attribute(type: number, value: Buffer) {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(type, 0);
  head.writeUInt16BE(value.length, 2);
  return Buffer.concat([head, value, Buffer.alloc((4 - (value.length % 4)) % 4)]);
}

/** An Allocate request; with `auth`, signed with MESSAGE-INTEGRITY (key = MD5(user:realm:password)). */
function allocateRequest(auth?: { username: string; realm: string; nonce: string; password: string }) {
  const transport = Buffer.from([17, 0, 0, 0]); // UDP relay
  const attrs = [attribute(ATTR.REQUESTED_TRANSPORT, transport)];
  if (auth) {
    attrs.push(attribute(ATTR.USERNAME, Buffer.from(auth.username)), attribute(ATTR.REALM, Buffer.from(auth.realm)), attribute(ATTR.NONCE, Buffer.from(auth.nonce)));
  }
  const body = Buffer.concat(attrs);
  const header = Buffer.alloc(20);
  header.writeUInt16BE(ALLOCATE, 0);
  header.writeUInt32BE(MAGIC, 4);
  randomBytes(12).copy(header, 8);
  if (!auth) {
    header.writeUInt16BE(body.length, 2);
    return Buffer.concat([header, body]);
  }
  // The length covers the MESSAGE-INTEGRITY attribute (24 bytes) that follows what it signs.
  header.writeUInt16BE(body.length + 24, 2);
  const key = createHash('md5').update(`${auth.username}:${auth.realm}:${auth.password}`).digest();
  const mac = createHmac('sha1', key).update(Buffer.concat([header, body])).digest();
  return Buffer.concat([header, body, attribute(ATTR.MESSAGE_INTEGRITY, mac)]);
}

interface StunAnswer {
  type: number;
  attrs: Map<number, Buffer>;
}

function parse(msg: Buffer): StunAnswer {
  const attrs = new Map<number, Buffer>();
  const end = 20 + msg.readUInt16BE(2);
  for (let at = 20; at + 4 <= end; ) {
    const type = msg.readUInt16BE(at);
    const len = msg.readUInt16BE(at + 2);
    attrs.set(type, msg.subarray(at + 4, at + 4 + len));
    at += 4 + len + ((4 - (len % 4)) % 4);
  }
  return { type: msg.readUInt16BE(0), attrs };
}

/** Sends STUN messages over one TCP connection (framed by their length) and reads the answers. */
function stunConnection(port: number, host: string, tls: boolean) {
  const socket: Socket = tls ? tlsConnect({ port, host, rejectUnauthorized: false }) : connect(port, host);
  let buffered = Buffer.alloc(0);
  const waiting: Array<(m: Buffer | Error) => void> = [];
  const ready: Buffer[] = [];
  socket.on('data', (d) => {
    buffered = Buffer.concat([buffered, d]);
    while (buffered.length >= 20 && buffered.length >= 20 + buffered.readUInt16BE(2)) {
      const size = 20 + buffered.readUInt16BE(2);
      const msg = buffered.subarray(0, size);
      buffered = buffered.subarray(size);
      const w = waiting.shift();
      if (w) w(msg);
      else ready.push(msg);
    }
  });
  socket.on('error', (e) => waiting.splice(0).forEach((w) => w(e)));
  return {
    exchange(request: Buffer, timeoutMs = 5000): Promise<StunAnswer> {
      socket.write(request);
      return new Promise((resolve, reject) => {
        const done = (m: Buffer | Error) => {
          clearTimeout(timer);
          if (m instanceof Error) reject(m);
          else resolve(parse(m));
        };
        const timer = setTimeout(() => reject(new Error('no TURN answer')), timeoutMs);
        const early = ready.shift();
        if (early) done(early);
        else waiting.push(done);
      });
    },
    close: () => socket.destroy(),
  };
}

export type AllocateResult = { ok: true; relayed: string } | { ok: false; code: number; reason: string };

/**
 * A TURN Allocate over TCP (or TLS) with long-term credentials (the first, unsigned request gets the
 * realm and nonce): ok with the relayed address when coturn accepts the credential.
 */
export async function turnAllocate(options: {
  port: number;
  host?: string;
  /** Over TLS (a turns: URL), without checking the certificate. */
  tls?: boolean;
  username: string;
  credential: string;
}): Promise<AllocateResult> {
  const conn = stunConnection(options.port, options.host ?? '127.0.0.1', options.tls ?? false);
  try {
    let answer = await conn.exchange(allocateRequest());
    for (let signed = 0; signed < 2 && answer.type === 0x0113; signed++) {
      const { code } = errorOf(answer);
      // 401 to the unsigned request asks for credentials; 438 (stale nonce) asks again with a new nonce.
      if (!((code === 401 && signed === 0) || code === 438)) break;
      const realm = answer.attrs.get(ATTR.REALM)?.toString();
      const nonce = answer.attrs.get(ATTR.NONCE)?.toString();
      if (!realm || !nonce) break;
      answer = await conn.exchange(allocateRequest({ username: options.username, realm, nonce, password: options.credential }));
    }
    if (answer.type === 0x0103) {
      const v = answer.attrs.get(ATTR.XOR_RELAYED_ADDRESS)!;
      const port = v.readUInt16BE(2) ^ (MAGIC >>> 16);
      const ip = [0, 1, 2, 3].map((i) => v[4 + i]! ^ ((MAGIC >>> (24 - 8 * i)) & 0xff)).join('.');
      return { ok: true, relayed: `${ip}:${port}` };
    }
    return { ok: false, ...errorOf(answer) };
  } finally {
    conn.close();
  }
}

function errorOf(answer: StunAnswer) {
  const v = answer.attrs.get(ATTR.ERROR_CODE);
  if (!v) return { code: 0, reason: `STUN message type 0x${answer.type.toString(16)}` };
  return { code: (v[2]! & 0x7) * 100 + v[3]!, reason: v.subarray(4).toString() };
}
