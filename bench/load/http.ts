/** A tiny keep-alive HTTP client on node:http: one agent (one socket) per simulated connection. */
import { Agent, request } from 'node:http';

export interface Reply {
  status: number;
  body: string;
}

export class Conn {
  readonly agent: Agent;
  constructor(
    private readonly port: number,
    private readonly localAddress: string,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: 1, keepAliveMsecs: 30_000 });
  }

  send(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: this.port,
          localAddress: this.localAddress,
          method,
          path,
          agent: this.agent,
          headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        },
        (res) => {
          let data = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (data += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  close() {
    this.agent.destroy();
  }
}
