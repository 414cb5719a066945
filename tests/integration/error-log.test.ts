/**
 * Broken request bodies (a chunked body with a bad chunk, a body cut short) are the client's
 * doing: the server logs them at debug through its logger, once, and otherwise stays quiet; no
 * stack trace on stderr at the default log level. A real server process, its output captured.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startChildServer, type ChildServer } from '../helpers/child-server.js';

/** Writes this raw request, closes the sending side, and waits until the server closes too. */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    let answer = '';
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(text);
      setTimeout(() => socket.end(), 200);
    });
    socket.on('data', (d) => (answer += d));
    socket.on('close', () => resolve(answer));
    socket.on('error', () => resolve(answer));
    setTimeout(() => socket.destroy(), 5000);
  });
}

const BROKEN = [
  // A chunk size that is not hex.
  'POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n',
  // A body shorter than its Content-Length, then the end of the stream.
  'POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{"username":',
];

let server: ChildServer | undefined;
afterEach(async () => {
  await server?.destroy();
  server = undefined;
});

async function sendBroken(s: ChildServer) {
  for (const request of BROKEN) {
    const answer = await rawRequest(s.port, request);
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
  }
  // The server is fine afterwards, and has had time to write what it would.
  expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
  await new Promise((r) => setTimeout(r, 300));
}

describe('broken request bodies in the log', () => {
  it('at the default level (info): no stack trace, no error output', async () => {
    server = await startChildServer({ PORTICO_LOG_LEVEL: 'info' });
    const before = server.output().length;
    await sendBroken(server);
    const output = server.output().slice(before);
    expect(output).not.toMatch(/Parse Error/);
    expect(output).not.toMatch(/^\s+at /m);
  }, 60_000);

  it('at debug: each is logged once, as a pino line', async () => {
    server = await startChildServer({ PORTICO_LOG_LEVEL: 'debug' });
    const before = server.output().length;
    await sendBroken(server);
    const output = server.output().slice(before);
    const lines = output.split('\n').filter((l) => l.includes('request ended with an error'));
    expect(lines.length, output).toBe(BROKEN.length);
    for (const line of lines) {
      const entry = JSON.parse(line);
      expect(entry.level).toBe(20); // pino's debug
      expect(entry.err.message).toMatch(/Parse Error|aborted/);
      expect(entry.method).toBe('POST');
      expect(entry.url).toBe('/api/v1/login');
    }
    // Koa's own printout (indented stack) does not appear beside it.
    expect(output).not.toMatch(/^\s+Error: /m);
  }, 60_000);
});
