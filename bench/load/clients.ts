/**
 * Raw protocol clients that behave like panels: each holds one long poll and re-polls at once
 * with its cursor; senders have a second connection for their sends (as the Portico panel does).
 * Portico's REST + long poll, engine.io v4 polling + socket.io packets, Bayeux long-polling and
 * the raw floor's /poll, written against node:http only (the peers' own client libraries are
 * slower than their servers and would flatter Portico).
 */
import { Conn } from './http.js';

export type Kind = 'portico' | 'raw' | 'socketio' | 'faye';

export interface ClientSpec {
  i: number;
  /** Partner in the chat pair. */
  peer: number;
  sender: boolean;
  addr: string;
  /** Portico: bearer token and the pair's chat id. */
  token?: string;
  chat?: string;
  /** This client's server, when not the load process's (the cluster scenario: a pair spans two nodes). */
  port?: number;
}

/**
 * Durable runs only count sends: while quiet, poll answers are not decoded beyond what the next
 * poll needs (Portico's cursor), so the load core's work per message stays small.
 */
let quiet = false;
/** The first few poll errors of a load process are printed (the count is in the results). */
let loggedErrors = 0;
export const setQuiet = (q: boolean) => void (quiet = q);

/**
 * A Portico poll answer's own cursor, without parsing the answer: its last field. Each event in
 * it carries a cursor too; re-polling with the first event's (as this did until 2026-12-07) asks
 * for the rest of the answer again, and the durable figure measured those repeated reads.
 */
export function answerCursor(body: string): string {
  const at = body.lastIndexOf('"cursor":"') + 10;
  if (at < 10) throw new Error('poll answer without a cursor');
  return body.slice(at, body.indexOf('"', at));
}

/** What a client receives: a chat text or a ticker text (markers carry timestamps). */
export type OnItem = (client: Panel, kind: 'chat' | 'ticker', text: string) => void;

export abstract class Panel {
  protected readonly poll: Conn;
  protected sendConn?: Conn;
  stopped = false;
  errors = 0;
  /** Resolves once the first poll answered and the held one is on its way. */
  constructor(
    readonly spec: ClientSpec,
    protected readonly port: number,
    protected readonly onItem: OnItem,
  ) {
    this.poll = new Conn(port, spec.addr);
    if (spec.sender) this.sendConn = new Conn(port, spec.addr);
  }
  abstract start(): Promise<void>;
  abstract send(text: string): Promise<number>;
  protected abstract pollOnce(): Promise<void>;

  protected loop() {
    // The next poll goes out in the same turn's check phase: at once, but after the answers that
    // arrived together have all been timestamped (the load core is the busier one in a fan-out).
    const again = () => setImmediate(next);
    const next = (): void => {
      if (this.stopped) return;
      this.pollOnce().then(again, (e: Error) => {
        if (this.errors++ === 0 && loggedErrors++ < 3) console.error(`load: client ${this.spec.i}'s poll failed: ${e.message}`);
        if (!this.stopped) setTimeout(next, 200);
      });
    };
    next();
  }

  stop() {
    this.stopped = true;
    this.poll.close();
    this.sendConn?.close();
  }
}

class PorticoPanel extends Panel {
  private cursor = '0';
  private seq = 0;
  // Prebuilt once: the header lines of every poll and every send.
  private readonly auth = `authorization: Bearer ${this.spec.token}\r\n`;
  private readonly sendHead = `${this.auth}content-type: application/json\r\n`;
  private readonly sendPath = `/api/v1/chats/${this.spec.chat}/messages/m${this.spec.i}-`;
  private readonly me = `u${this.spec.i}`;

  async start() {
    const r = await this.poll.send('GET', '/api/v1/events?wait=0', this.auth);
    if (r.status !== 200) throw new Error(`portico first poll ${r.status} ${r.body}`);
    this.cursor = JSON.parse(r.body).cursor;
    this.loop();
  }

  protected async pollOnce() {
    const r = await this.poll.send('GET', `/api/v1/events?after=${this.cursor}&wait=25`, this.auth);
    if (r.status !== 200) throw new Error(`poll ${r.status}`);
    if (quiet) {
      this.cursor = answerCursor(r.body);
      return;
    }
    const body = JSON.parse(r.body) as { cursor: string; events?: any[] };
    this.cursor = body.cursor;
    for (const e of body.events ?? []) {
      if (e.type === 'chat.message' && e.message.from !== this.me) this.onItem(this, 'chat', e.message.text);
      else if (e.type === 'ticker.item') this.onItem(this, 'ticker', e.text);
    }
  }

  async send(text: string) {
    const r = await this.sendConn!.send('PUT', this.sendPath + ++this.seq, this.sendHead, `{"text":${JSON.stringify(text)}}`, false);
    return r.status;
  }
}

const JSON_HEAD = 'content-type: application/json\r\n';

class RawPanel extends Panel {
  private readonly pollPath = `/poll?u=${this.spec.i}`;
  private readonly sendPath = `/send?to=${this.spec.peer}`;
  async start() {
    // Its first poll is its handshake; the connection is made first so that a storm of starts
    // keeps the same 64 in flight per load process as the other protocols (sent all at once,
    // 19,000 SYNs overflowed the accept queue and retransmits took tens of seconds).
    await this.poll.open();
    this.loop();
  }
  protected async pollOnce() {
    const r = await this.poll.send('GET', this.pollPath);
    if (quiet) return;
    for (const item of JSON.parse(r.body) as Array<{ kind: 'chat' | 'ticker'; text: string }>) this.onItem(this, item.kind, item.text);
  }
  async send(text: string) {
    const r = await this.sendConn!.send('POST', this.sendPath, JSON_HEAD, `{"kind":"chat","text":${JSON.stringify(text)}}`, false);
    return r.status;
  }
}

/** engine.io v4 polling: packets joined by \x1e; socket.io packets inside message packets ("4"). */
class SocketIoPanel extends Panel {
  private sid = '';
  private posts: Promise<unknown> = Promise.resolve();
  private path = '';

  async start() {
    const base = `/socket.io/?EIO=4&transport=polling&u=${this.spec.i}`;
    const open = await this.poll.send('GET', base);
    if (open.body[0] !== '0') throw new Error(`engine.io open: ${open.status} ${open.body}`);
    this.sid = JSON.parse(open.body.slice(1)).sid;
    this.path = `${base}&sid=${this.sid}`;
    await this.post(this.poll, '40'); // socket.io CONNECT to the main namespace
    this.loop();
  }

  /** engine.io refuses overlapping POSTs of one session: they go one after another. */
  private post(conn: Conn, payload: string) {
    const p = this.posts.then(() => conn.send('POST', this.path, 'content-type: text/plain;charset=UTF-8\r\n', payload, false));
    this.posts = p.catch(() => {});
    return p;
  }

  protected async pollOnce() {
    const r = await this.poll.send('GET', this.path);
    if (r.status !== 200) throw new Error(`engine.io poll ${r.status} ${r.body}`);
    for (const packet of r.body.split('\x1e')) {
      if (packet === '2') await this.post(this.sendConn ?? this.poll, '3'); // pong
      else if (packet.startsWith('42')) {
        const [name, data] = JSON.parse(packet.slice(2)) as [string, { text: string }];
        this.onItem(this, name === 'chat' ? 'chat' : 'ticker', data.text);
      } else if (packet === '1') throw new Error('engine.io closed the session');
    }
  }

  async send(text: string) {
    const r = await this.post(this.sendConn!, `42${JSON.stringify(['chat', { to: String(this.spec.peer), text }])}`);
    return r.status;
  }
}

class FayePanel extends Panel {
  private clientId = '';
  private id = 0;
  private async bayeux(conn: Conn, messages: object[]) {
    const r = await conn.send('POST', '/faye', JSON_HEAD, JSON.stringify(messages));
    if (r.status !== 200) throw new Error(`bayeux ${r.status} ${r.body}`);
    return JSON.parse(r.body) as any[];
  }

  async start() {
    const [hs] = await this.bayeux(this.poll, [
      { channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'], id: String(++this.id) },
    ]);
    if (!hs?.successful) throw new Error(`bayeux handshake: ${JSON.stringify(hs)}`);
    this.clientId = hs.clientId;
    const subs = await this.bayeux(this.poll, [
      { channel: '/meta/subscribe', clientId: this.clientId, subscription: `/u/${this.spec.i}`, id: String(++this.id) },
      { channel: '/meta/subscribe', clientId: this.clientId, subscription: '/ticker', id: String(++this.id) },
    ]);
    if (!subs.every((s) => s.successful)) throw new Error(`bayeux subscribe: ${JSON.stringify(subs)}`);
    this.loop();
  }

  protected async pollOnce() {
    const replies = await this.bayeux(this.poll, [
      { channel: '/meta/connect', clientId: this.clientId, connectionType: 'long-polling', id: String(++this.id) },
    ]);
    for (const m of replies) {
      if (m.channel === '/meta/connect') {
        if (!m.successful) throw new Error(`bayeux connect: ${JSON.stringify(m)}`);
      } else if (m.data) this.onItem(this, m.channel === '/ticker' ? 'ticker' : 'chat', m.data.text);
    }
  }

  async send(text: string) {
    const [reply] = await this.bayeux(this.sendConn!, [
      { channel: `/u/${this.spec.peer}`, clientId: this.clientId, data: { text }, id: String(++this.id) },
    ]);
    return reply?.successful ? 200 : 500;
  }
}

export function makePanel(kind: Kind, spec: ClientSpec, defaultPort: number, onItem: OnItem): Panel {
  const port = spec.port ?? defaultPort;
  switch (kind) {
    case 'portico':
      return new PorticoPanel(spec, port, onItem);
    case 'raw':
      return new RawPanel(spec, port, onItem);
    case 'socketio':
      return new SocketIoPanel(spec, port, onItem);
    case 'faye':
      return new FayePanel(spec, port, onItem);
  }
}
