/**
 * A small keep-alive HTTP/1.1 client on one net.Socket per simulated connection: one string
 * written per request (the caller's prebuilt head lines), a response parser that reads only the
 * status line, Content-Length / chunked and Connection. node:http's client (an Agent, a
 * ClientRequest, an IncomingMessage and a header object per request) cost the load core about
 * as much per request as the floor's server spent answering it, so the raw floor's durable rate
 * measured the load generator (see docs/benchmarks.md). Requests may be pipelined: answers are
 * matched to requests in order.
 */
import { connect, type Socket } from 'node:net';

export interface Reply {
  status: number;
  body: string;
}

interface Pending {
  resolve: (r: Reply) => void;
  reject: (e: Error) => void;
  /** Decode the body (false: only the status is wanted, the bytes are skipped). */
  wantBody: boolean;
}

const CRLF2 = Buffer.from('\r\n\r\n');

export class Conn {
  private sock?: Socket;
  private readonly waiting: Pending[] = [];
  private buf: Buffer | undefined;
  /** Parsed head of the answer being read: status, bytes of body left (-1: chunked, -2: until close). */
  private status = 0;
  private left = 0;
  private inBody = false;
  private chunks: Buffer[] = [];
  private closeAfter = false;
  private readonly hostLine: string;

  constructor(
    private readonly port: number,
    private readonly localAddress: string,
  ) {
    this.hostLine = `host: 127.0.0.1:${port}\r\n`;
  }

  /** In-flight requests on this connection. */
  get inFlight() {
    return this.waiting.length;
  }

  /**
   * `headLines`: header lines each ending in \r\n (prebuilt by the caller, e.g. its
   * authorization); Host and Content-Length are added here.
   */
  send(method: string, path: string, headLines = '', body?: string, wantBody = true): Promise<Reply> {
    const req =
      body === undefined
        ? `${method} ${path} HTTP/1.1\r\n${this.hostLine}${headLines}\r\n`
        : `${method} ${path} HTTP/1.1\r\n${this.hostLine}${headLines}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject, wantBody });
      this.socket().write(req);
    });
  }

  /** Resolves once the TCP connection is established (a start that sends nothing first waits for this). */
  open(): Promise<void> {
    const s = this.socket();
    if (!s.connecting) return Promise.resolve();
    return new Promise((resolve, reject) => {
      s.once('connect', () => {
        s.off('error', reject);
        resolve();
      });
      s.once('error', reject);
    });
  }

  private socket(): Socket {
    if (this.sock) return this.sock;
    const s = connect({ host: '127.0.0.1', port: this.port, localAddress: this.localAddress, noDelay: true });
    s.on('data', (d: Buffer) => this.onData(d));
    const fail = (e?: Error) => {
      if (this.sock !== s) return;
      // A body read until close ends here.
      if (!e && this.inBody && this.left === -2) this.finish();
      this.sock = undefined;
      this.reset();
      const err = e ?? new Error('socket closed by the server');
      const w = this.waiting.splice(0);
      for (const p of w) p.reject(err);
    };
    s.on('error', fail);
    s.on('close', () => fail());
    this.sock = s;
    return s;
  }

  private reset() {
    this.buf = undefined;
    this.inBody = false;
    this.chunks = [];
    this.closeAfter = false;
  }

  private onData(d: Buffer) {
    let b = this.buf ? Buffer.concat([this.buf, d]) : d;
    this.buf = undefined;
    while (b.length > 0) {
      if (!this.inBody) {
        const end = b.indexOf(CRLF2);
        if (end < 0) {
          this.buf = b;
          return;
        }
        const head = b.toString('latin1', 0, end).toLowerCase();
        this.status = Number(head.slice(9, 12));
        const cl = /\r\ncontent-length:\s*(\d+)/.exec(head);
        this.left = cl ? Number(cl[1]) : /\r\ntransfer-encoding:\s*chunked/.test(head) ? -1 : this.status === 204 || this.status === 304 ? 0 : -2;
        this.closeAfter = /\r\nconnection:\s*close/.test(head);
        this.inBody = true;
        b = b.subarray(end + 4);
        if (this.left === 0) this.finish();
        continue;
      }
      if (this.left > 0) {
        const take = Math.min(this.left, b.length);
        if (this.waiting[0]?.wantBody) this.chunks.push(take === b.length ? b : b.subarray(0, take));
        this.left -= take;
        b = b.subarray(take);
        if (this.left === 0) this.finish();
        continue;
      }
      if (this.left === -1) {
        // Chunked: size line, data, CRLF; a zero size ends it (trailers are not expected).
        const eol = b.indexOf('\r\n');
        if (eol < 0) {
          this.buf = b;
          return;
        }
        const size = parseInt(b.toString('latin1', 0, eol), 16);
        if (size === 0) {
          if (b.length < eol + 4) {
            this.buf = b;
            return;
          }
          b = b.subarray(eol + 4);
          this.finish();
          continue;
        }
        if (b.length < eol + 2 + size + 2) {
          this.buf = b;
          return;
        }
        this.chunks.push(b.subarray(eol + 2, eol + 2 + size));
        b = b.subarray(eol + 2 + size + 2);
        continue;
      }
      // -2: the body runs until the server closes the connection.
      this.chunks.push(b);
      return;
    }
  }

  private finish() {
    const p = this.waiting.shift();
    const body = p?.wantBody && this.chunks.length > 0 ? (this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks)).toString('utf8') : '';
    const status = this.status;
    const close = this.closeAfter;
    this.inBody = false;
    this.chunks = [];
    this.closeAfter = false;
    p?.resolve({ status, body });
    if (close) {
      // Requests pipelined behind it are lost with the connection.
      const s = this.sock;
      this.sock = undefined;
      this.reset();
      s?.destroy();
      for (const q of this.waiting.splice(0)) q.reject(new Error('connection: close'));
    }
  }

  close() {
    const s = this.sock;
    this.sock = undefined;
    s?.destroy();
    for (const p of this.waiting.splice(0)) p.reject(new Error('closed'));
  }
}
