/**
 * The bench's load client (bench/load/http.ts) against a plain node:http server: answers split
 * across reads, chunked bodies, pipelined requests matched in order, status-only sends,
 * `connection: close` and a server that goes away. A wrong parse here would silently miscount
 * every benchmark figure.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Conn } from '../../bench/load/http.js';

let server: Server;
let port = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://x');
      const delay = Number(url.searchParams.get('delay') ?? 0);
      setTimeout(() => {
        if (url.pathname === '/echo') res.writeHead(201, { 'content-length': Buffer.byteLength(`${req.method} ${body} ${req.headers['x-a']}`) }).end(`${req.method} ${body} ${req.headers['x-a']}`);
        else if (url.pathname === '/chunked') {
          // No content-length: node sends it chunked, in two writes.
          res.writeHead(200);
          res.write('héllo ');
          setTimeout(() => res.end('wörld'), 5);
        } else if (url.pathname === '/close') res.writeHead(200, { connection: 'close', 'content-length': 3 }).end('bye');
        else if (url.pathname === '/drop') req.socket.destroy();
        else if (url.pathname === '/none') res.writeHead(204).end();
        else res.writeHead(404, { 'content-length': 0 }).end();
      }, delay);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

it('reads bodies, chunked answers, 204 and status-only answers on one kept-alive connection', async () => {
  const c = new Conn(port, '127.0.0.1');
  expect(await c.send('PUT', '/echo', 'x-a: 1\r\ncontent-type: text/plain\r\n', 'ü body')).toEqual({ status: 201, body: 'PUT ü body 1' });
  expect(await c.send('GET', '/chunked')).toEqual({ status: 200, body: 'héllo wörld' });
  expect(await c.send('GET', '/none')).toEqual({ status: 204, body: '' });
  expect(await c.send('POST', '/echo', '', 'not read', false)).toEqual({ status: 201, body: '' });
  expect(await c.send('GET', '/missing')).toEqual({ status: 404, body: '' });
  c.close();
});

it('matches pipelined answers to their requests in order', async () => {
  const c = new Conn(port, '127.0.0.1');
  // The first is answered last by the handler; node:http still writes answers in request order.
  const replies = await Promise.all([c.send('POST', '/echo?delay=30', 'x-a: a\r\n', 'one'), c.send('POST', '/echo', 'x-a: b\r\n', 'two'), c.send('GET', '/chunked')]);
  expect(replies.map((r) => r.body)).toEqual(['POST one a', 'POST two b', 'héllo wörld']);
  c.close();
});

it('reconnects after connection: close, and rejects what a dropped connection had in flight', async () => {
  const c = new Conn(port, '127.0.0.1');
  expect(await c.send('GET', '/close')).toEqual({ status: 200, body: 'bye' });
  expect((await c.send('POST', '/echo', '', 'again')).body).toBe('POST again undefined');
  await expect(c.send('GET', '/drop')).rejects.toThrow();
  expect((await c.send('POST', '/echo', '', 'after')).status).toBe(201);
  c.close();
});
