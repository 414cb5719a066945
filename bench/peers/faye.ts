/**
 * Faye peer (Bayeux, long-polling). Clients subscribe to /u/<id> and /ticker and publish chat
 * messages straight to the receiver's channel (Faye's idiom); POST /broadcast publishes a ticker
 * item from the server side.
 */
import { createServer } from 'node:http';
import { createRequire } from 'node:module';

const faye = createRequire(import.meta.url)('faye');
const bayeux = new faye.NodeAdapter({ mount: '/faye', timeout: 25 });
const http = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/broadcast') {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      bayeux.getClient().publish('/ticker', JSON.parse(body));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    return;
  }
  if (req.method === 'GET' && req.url === '/held') return void res.end(String(held));
  res.writeHead(404).end();
});
// Held polls for the connect-storm figure: /meta/connect messages received and not answered yet.
let held = 0;
bayeux.addExtension({
  incoming(message: { channel: string }, callback: (m: unknown) => void) {
    if (message.channel === '/meta/connect') held++;
    callback(message);
  },
  outgoing(message: { channel: string }, callback: (m: unknown) => void) {
    if (message.channel === '/meta/connect') held--;
    callback(message);
  },
});
bayeux.attach(http);
http.keepAliveTimeout = 30_000;
http.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`READY ${(http.address() as { port: number }).port}`);
});
