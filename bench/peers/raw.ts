/**
 * The floor: a bare node:http long-poll server with the same chat and broadcast semantics as the
 * others, no framework, no storage, no auth. What HTTP on this machine allows.
 *   GET  /poll?u=ID      held until something is queued for u (or 25 s): JSON array of items
 *   POST /send?to=ID     body = one item, queued for `to`
 *   POST /broadcast      body = one item, queued for every known user, all woken at once
 *   GET  /held           how many polls are held now (bench/run.ts's connect-storm figure)
 */
import { createServer, type ServerResponse } from 'node:http';

interface User {
  pending: string[];
  held?: ServerResponse;
  timer?: NodeJS.Timeout;
}
const users = new Map<string, User>();
const userOf = (id: string) => {
  let u = users.get(id);
  if (!u) users.set(id, (u = { pending: [] }));
  return u;
};

function answer(u: User) {
  const res = u.held!;
  u.held = undefined;
  clearTimeout(u.timer);
  const body = `[${u.pending.join(',')}]`;
  u.pending = [];
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const server = createServer((req, res) => {
  const url = new URL(req.url!, 'http://x');
  if (req.method === 'GET' && url.pathname === '/poll') {
    const u = userOf(url.searchParams.get('u') ?? '');
    if (u.held) answer(u); // a newer poll replaces the held one
    u.held = res;
    if (u.pending.length > 0) return answer(u);
    u.timer = setTimeout(() => u.held === res && answer(u), 25_000);
    res.on('close', () => {
      if (u.held === res) {
        u.held = undefined;
        clearTimeout(u.timer);
      }
    });
    return;
  }
  if (req.method === 'GET' && url.pathname === '/held') {
    // The connect-storm figure: how many polls are held now.
    let held = 0;
    for (const u of users.values()) if (u.held) held++;
    return res.end(String(held));
  }
  if (req.method === 'POST' && (url.pathname === '/send' || url.pathname === '/broadcast')) {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const targets = url.pathname === '/send' ? [userOf(url.searchParams.get('to') ?? '')] : [...users.values()];
      for (const u of targets) {
        u.pending.push(body);
        if (u.held) answer(u);
      }
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 });
      res.end('{}');
    });
    return;
  }
  res.writeHead(404).end();
});
server.keepAliveTimeout = 30_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`READY ${(server.address() as { port: number }).port}`);
});
