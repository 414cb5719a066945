/**
 * The event lane: the lane routes (a `lane` handler in their declaration: `GET /api/v1/events`,
 * `PUT /api/v1/chats/:id/messages/:clientId`) answered straight on node:http, without Koa.
 *
 * Held polls are most of a Portico server's requests: every event wakes its listeners and each
 * re-polls at once. Through Koa each of them built a context, ran the middleware chain and the
 * router's match over every route, and most of that became garbage: in a fan-out to 5,000
 * waiters the profile showed garbage collection at ~40 % of the server's busy time and the Koa
 * stack at ~30 % of the rest. Sending a message is the other hot request: through Koa it cost as
 * much CPU as the store's whole work for it.
 *
 * Nothing here is written twice: the lane matches a request with the route's own declaration
 * (method, path, the bearer session its `user` access needs, its params and query schemas, a
 * JSON body for its body schema) and runs the route's own handler, with the same security
 * headers, error bodies and request histogram, so an answer given here is the one Koa would give.
 * Whatever does not clearly fit (no or unknown token, parameters or a query the schema refuses,
 * malformed escapes, a repeated query name, a query on a route without one, another content
 * type) goes the general way, so its error answer is the usual one.
 *
 * A `POST` with `X-HTTP-Method-Override` (http/method-override.ts) is the method it stands for
 * here too; an override the middleware refuses goes the general way, where it is refused.
 * `req.method` is left as it came: a request that falls back to the general way must meet the
 * middleware unchanged.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Sessions } from '../auth/sessions.js';
import { bearerTokenHash } from '../http/auth.js';
import { readJson } from '../http/body.js';
import { errorAnswer } from '../http/errors.js';
import { HSTS, SECURITY_HEADERS, overTls } from '../http/headers.js';
import { METHOD_OVERRIDE_HEADER, effectiveMethod } from '../http/method-override.js';
import type { LaneBody, RouteSpec } from '../http/route.js';

const JSON_BODY = /^application\/json\s*(;|$)/i;

interface LaneParts {
  sessions: Sessions;
  /** All declared routes; the lane serves those with a `lane` handler. */
  routes: readonly RouteSpec[];
  log: Logger;
  observe: (method: string, route: string, status: number, seconds: number) => void;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const BASE_HEADERS: string[] = Object.entries(SECURITY_HEADERS).flat();
const SLASH = 47;
const NO_VALUES: string[] = [];
/** Parsed queries remembered per route: after a fan-out thousands of re-polls carry the same query (the same cursor). */
const QUERY_CACHE_MAX = 256;

/** A lane route with what matching it needs, worked out once from its declaration. */
class LaneRoute {
  readonly method: string;
  /** The declared path split at '/', `:name` for a parameter ('' first). */
  private readonly segments: readonly string[];
  private readonly names: readonly string[];
  /** Query text -> its parsed (frozen) value, or false when refused. */
  private readonly queries = new Map<string, unknown>();

  constructor(readonly spec: RouteSpec) {
    this.method = spec.method.toUpperCase();
    this.segments = spec.path.split('/');
    this.names = this.segments.filter((s) => s.startsWith(':')).map((s) => s.slice(1));
  }

  /**
   * The path's raw parameter values when `path` (no query) is this route's, else undefined.
   * Exact, as declared: no trailing slash, no empty parameter, no '/' inside one.
   */
  private values(path: string): string[] | undefined {
    if (this.names.length === 0) return path === this.spec.path ? NO_VALUES : undefined;
    const values: string[] = [];
    let at = 0;
    for (let i = 1; i < this.segments.length; i++) {
      if (path.charCodeAt(at) !== SLASH) return undefined;
      at++;
      const slash = path.indexOf('/', at);
      const end = slash < 0 ? path.length : slash;
      const segment = this.segments[i]!;
      if (segment.charCodeAt(0) === 58 /* : */) {
        if (end === at) return undefined;
        values.push(path.slice(at, end));
      } else if (end - at !== segment.length || !path.startsWith(segment, at)) {
        return undefined;
      }
      at = end;
    }
    return at === path.length ? values : undefined;
  }

  /** The path's parameters as the router would decode them, checked by the route's schema; false when not (or not this route). */
  params(path: string): unknown {
    const values = this.values(path);
    if (!values) return false;
    if (!this.spec.params) return undefined;
    const raw: Record<string, string> = {};
    try {
      for (let i = 0; i < values.length; i++) raw[this.names[i]!] = decodeURIComponent(values[i]!);
    } catch {
      return false; // malformed escapes: the general way answers them
    }
    const parsed = this.spec.params.safeParse(raw);
    return parsed.success ? parsed.data : false;
  }

  /** The query checked by the route's schema; false when it does not pass (or repeats a name, as Koa would give an array). */
  query(search: string | undefined): unknown {
    if (!this.spec.query) return search === undefined ? undefined : false;
    const key = search ?? '';
    let parsed = this.queries.get(key);
    if (parsed === undefined) {
      if (this.queries.size === QUERY_CACHE_MAX) this.queries.clear();
      this.queries.set(key, (parsed = this.parseQuery(search)));
    }
    return parsed;
  }

  private parseQuery(search: string | undefined): unknown {
    const raw: Record<string, string> = {};
    if (search !== undefined) {
      for (const [name, value] of new URLSearchParams(search)) {
        if (Object.hasOwn(raw, name)) return false; // let the schema on the general way refuse it
        raw[name] = value;
      }
    }
    const parsed = this.spec.query!.safeParse(raw);
    // Frozen: one parsed query serves every request that sent the same text.
    return parsed.success ? Object.freeze(parsed.data) : false;
  }
}

export type Lane = RequestListener & {
  /** The server is stopping: answers given from now on close their connection (no reuse of a closing server's sockets). */
  shutDown(): void;
};

export function eventLane(parts: LaneParts, general: RequestListener): Lane {
  const lanes = parts.routes.filter((spec) => spec.lane).map((spec) => new LaneRoute(spec));
  let stopping = false;
  const send = (req: IncomingMessage, res: ServerResponse, status: number, body: LaneBody, extra?: Record<string, string>) => {
    if (res.headersSent || res.destroyed) return;
    if (stopping) res.shouldKeepAlive = false;
    const length = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    const headers = [...BASE_HEADERS, 'Content-Type', JSON_TYPE, 'Content-Length', String(length)];
    if (overTls(req)) headers.push('Strict-Transport-Security', HSTS);
    if (extra) for (const [name, value] of Object.entries(extra)) headers.push(name, value);
    res.writeHead(status, headers).end(body);
  };

  async function serve(lane: LaneRoute, req: IncomingMessage, res: ServerResponse, params: unknown, query: unknown, tokenHash: Buffer, started: number) {
    const { spec } = lane;
    try {
      const session = await parts.sessions.verify(tokenHash);
      if (!session) return general(req, res);
      const body = spec.body ? spec.body.parse(await readJson(req, res)) : undefined;
      // Inline, not a named const: tsx (esbuild keepNames) would add a defineProperty per poll.
      await spec.lane!({ params, query, body, session } as never, res, (json, status = spec.status ?? 200) => {
        send(req, res, status, json);
        parts.observe(lane.method, spec.path, status, (performance.now() - started) / 1000);
      });
    } catch (error) {
      const answer = errorAnswer(error, parts.log, { method: lane.method, url: req.url });
      send(req, res, answer.status, JSON.stringify(answer.body), answer.headers);
      parts.observe(lane.method, spec.path, answer.status, (performance.now() - started) / 1000);
    }
  }

  const handle: RequestListener = (req, res) => {
    // Without the header (nearly always) the method is the request's own; with it, only a valid POST override.
    const method = req.headers[METHOD_OVERRIDE_HEADER] === undefined ? req.method : effectiveMethod(req);
    if (typeof method !== 'string') return general(req, res);
    const url = req.url ?? '';
    const mark = url.indexOf('?');
    const path = mark < 0 ? url : url.slice(0, mark);
    for (const lane of lanes) {
      if (lane.method !== method) continue;
      const params = lane.params(path);
      if (params === false) continue;
      if (lane.spec.body && !JSON_BODY.test(req.headers['content-type'] ?? '')) break;
      const tokenHash = bearerTokenHash(req);
      if (!tokenHash) break;
      const query = lane.query(mark < 0 ? undefined : url.slice(mark + 1));
      if (query === false) break;
      void serve(lane, req, res, params, query, tokenHash, performance.now());
      return;
    }
    general(req, res);
  };
  return Object.assign(handle, { shutDown: () => void (stopping = true) });
}
