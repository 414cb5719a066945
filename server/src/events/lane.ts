/**
 * The event lane: a valid `GET /api/v1/events` is answered straight on node:http, without Koa.
 *
 * Held polls are most of a Portico server's requests: every event wakes its listeners and each
 * re-polls at once. Through Koa each of them built a context, ran the middleware chain and the
 * router's match over every route, and most of that became garbage: in a fan-out to 5,000
 * waiters the profile showed garbage collection at ~40 % of the server's busy time and the Koa
 * stack at ~30 % of the rest. The lane does the same checks with the same pieces (bearer token
 * and session, the EventsQuery schema, `longPoll`, the security headers, the request histogram),
 * so a poll answered here is the poll the declared route would have given.
 *
 * Whatever is not a well-formed, authenticated poll (no or unknown token, a query the schema
 * refuses, another method) goes the general way, so its error answer is the usual one.
 *
 * Sending a chat message (`PUT /api/v1/chats/:id/messages/:clientId`) takes the lane too: each
 * message is one such request, and through Koa it cost as much CPU as the store's whole work
 * for it. The lane takes it only once the token is a live session, the path's parameters pass
 * MessageParams and the body is declared application/json; from then on it reads the body with
 * the same bounded reader and answers failures with the same error bodies as the declared route.
 *
 * A `POST` with `X-HTTP-Method-Override: PUT` (http/method-override.ts) is that PUT here too; any
 * other request carrying the header goes the general way, where the middleware refuses or
 * rewrites it, so both ways give the same answer. `req.method` is left as it came: a send that
 * falls back to the general way must meet the middleware unchanged.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { EventsQuery, MessageParams, SendMessageRequest, type Message } from '../../../shared/index.js';
import type { Sessions } from '../auth/sessions.js';
import { bearerTokenHash } from '../http/auth.js';
import { readJson } from '../http/body.js';
import { errorAnswer } from '../http/errors.js';
import { HSTS, SECURITY_HEADERS, overTls } from '../http/headers.js';
import { METHOD_OVERRIDE_HEADER, effectiveMethod } from '../http/method-override.js';
import type { SessionRecord } from '../store/store.js';
import { MESSAGE_ROUTE } from '../chat/routes.js';
import { EVENTS_PATH, type PollQuery } from './routes.js';

const MESSAGE_PATH = /^\/api\/v1\/chats\/([^/?]+)\/messages\/([^/?]+)$/;
const JSON_BODY = /^application\/json\s*(;|$)/i;

type SendMessage = (session: SessionRecord, chatId: string, clientId: string, text: string) => Promise<{ message: Message; created: boolean }>;

type Poll = (query: PollQuery, session: SessionRecord, res: ServerResponse, answer: (body: string) => void) => Promise<void>;

interface LaneParts {
  sessions: Sessions;
  poll: Poll;
  /** Stores a message (ChatService.send); without it, sends go the general way. */
  sendMessage?: SendMessage;
  log: Logger;
  observe: (method: string, route: string, status: number, seconds: number) => void;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const BASE_HEADERS: string[] = Object.entries(SECURITY_HEADERS).flat();

/** The query of an events URL as the schema sees it, or undefined when it is not one (or repeats a name). */
function pollQuery(url: string): Record<string, string> | undefined {
  const mark = url.indexOf('?');
  if ((mark < 0 ? url : url.slice(0, mark)) !== EVENTS_PATH) return undefined;
  const query: Record<string, string> = {};
  if (mark < 0) return query;
  for (const [name, value] of new URLSearchParams(url.slice(mark + 1))) {
    if (Object.hasOwn(query, name)) return undefined; // Koa would pass an array: let the schema there refuse it
    query[name] = value;
  }
  return query;
}

/** The path's parameters as the router would decode them, checked by the route's schema. */
function messageParams(id: string, clientId: string) {
  try {
    return MessageParams.safeParse({ id: decodeURIComponent(id), clientId: decodeURIComponent(clientId) });
  } catch {
    return undefined; // malformed escapes: the general way answers them
  }
}

export type Lane = RequestListener & {
  /** The server is stopping: polls answered from now on close their connection (no reuse of a closing server's sockets). */
  shutDown(): void;
};

export function eventLane(parts: LaneParts, general: RequestListener): Lane {
  let stopping = false;
  const send = (req: IncomingMessage, res: ServerResponse, status: number, body: string, extra?: Record<string, string>) => {
    if (res.headersSent || res.destroyed) return;
    if (stopping) res.shouldKeepAlive = false;
    const headers = [...BASE_HEADERS, 'Content-Type', JSON_TYPE, 'Content-Length', String(Buffer.byteLength(body))];
    if (overTls(req)) headers.push('Strict-Transport-Security', HSTS);
    if (extra) for (const [name, value] of Object.entries(extra)) headers.push(name, value);
    res.writeHead(status, headers).end(body);
  };
  const failed = (req: IncomingMessage, res: ServerResponse, method: string, route: string, error: unknown, started: number) => {
    const answer = errorAnswer(error, parts.log, { method, url: req.url });
    send(req, res, answer.status, JSON.stringify(answer.body), answer.headers);
    parts.observe(method, route, answer.status, (performance.now() - started) / 1000);
  };

  async function serve(req: IncomingMessage, res: ServerResponse, query: PollQuery, tokenHash: Buffer, started: number) {
    const session = await parts.sessions.verify(tokenHash);
    if (!session) return general(req, res);
    // Inline, not a named const: tsx (esbuild keepNames) would add a defineProperty per poll.
    await parts.poll(query, session, res, (body) => {
      send(req, res, 200, body);
      parts.observe('GET', EVENTS_PATH, 200, (performance.now() - started) / 1000);
    });
  }

  async function sendMessage(req: IncomingMessage, res: ServerResponse, params: { id: string; clientId: string }, tokenHash: Buffer, started: number) {
    const session = await parts.sessions.verify(tokenHash);
    if (!session) return general(req, res);
    const body = SendMessageRequest.parse(await readJson(req, res));
    const { message, created } = await parts.sendMessage!(session, params.id, params.clientId, body.text);
    const status = created ? 201 : 200;
    send(req, res, status, JSON.stringify({ message }));
    parts.observe('PUT', MESSAGE_ROUTE, status, (performance.now() - started) / 1000);
  }

  const handle: RequestListener = (req, res) => {
    // Without the header (nearly always) the method is the request's own; with it, only a valid POST override is a PUT here.
    const method = req.headers[METHOD_OVERRIDE_HEADER] === undefined ? req.method : effectiveMethod(req);
    if (typeof method !== 'string' || (method !== req.method && method !== 'PUT')) return general(req, res);
    if (method === 'PUT' && parts.sendMessage) {
      const path = MESSAGE_PATH.exec(req.url ?? '');
      const tokenHash = path && JSON_BODY.test(req.headers['content-type'] ?? '') ? bearerTokenHash(req) : undefined;
      const params = tokenHash ? messageParams(path![1]!, path![2]!) : undefined;
      if (!params?.success) return general(req, res);
      const started = performance.now();
      sendMessage(req, res, params.data, tokenHash!, started).catch((error) => failed(req, res, 'PUT', MESSAGE_ROUTE, error, started));
      return;
    }
    const raw = method === 'GET' ? pollQuery(req.url ?? '') : undefined;
    const tokenHash = raw && bearerTokenHash(req);
    const query = tokenHash ? EventsQuery.safeParse(raw) : undefined;
    if (!query?.success) return general(req, res);
    const started = performance.now();
    serve(req, res, query.data, tokenHash!, started).catch((error) => failed(req, res, 'GET', EVENTS_PATH, error, started));
  };
  return Object.assign(handle, { shutDown: () => void (stopping = true) });
}
