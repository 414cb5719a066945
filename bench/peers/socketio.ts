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
  res.writeHead(404).end();
});
const io = new Server(http, { transports: ['polling'], serveClient: false });
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
