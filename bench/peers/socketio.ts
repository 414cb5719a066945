/**
 * Socket.IO peer, polling transport only. Each client joins its own room (query `u`); a `chat`
 * event is re-emitted to the room of `to`; POST /broadcast emits `ticker` to everyone. The
 * idiomatic Socket.IO way to write the same chat and ticker.
 */
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const http = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/broadcast') {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      io.emit('ticker', JSON.parse(body));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    return;
  }
  if (req.method === 'GET' && req.url === '/held') return void res.end(String(held));
  res.writeHead(404).end();
});
const io = new Server(http, { transports: ['polling'], serveClient: false });
// Held polls for the connect-storm figure: engine.io's polling GETs of an open session (with a
// sid) received and not answered yet. Added after engine.io's own listener, which calls the
// others only for paths it does not serve, so this one sees every request.
let held = 0;
http.on('request', (req, res) => {
  if (req.method !== 'GET' || !req.url?.includes('&sid=')) return;
  held++;
  res.once('close', () => held--);
});
io.on('connection', (socket) => {
  socket.join(`u:${String(socket.handshake.query.u)}`);
  socket.on('chat', (m: { to: string }) => {
    io.to(`u:${m.to}`).emit('chat', m);
  });
});
http.keepAliveTimeout = 30_000;
http.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`READY ${(http.address() as { port: number }).port}`);
});
