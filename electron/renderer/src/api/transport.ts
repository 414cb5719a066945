/**
 * Transport: how the client's requests reach the server. The one place that calls fetch, that
 * reads an answer into data or an ApiError (`answerError`: the server's `{error: {code, message}}`,
 * or a proxy's page), that switches PUT/PATCH/DELETE to POST + X-HTTP-Method-Override, and that
 * runs the request lane (one request at a time, in the order asked, with a timeout).
 *
 * Proxies that pass only GET and POST refuse PUT, PATCH and DELETE with a 403 or 405 page of
 * their own. On such a refusal (not Portico's `{error}` body) the request is sent once more as
 * POST with `X-HTTP-Method-Override`, and once the server has answered that, every later
 * PUT/PATCH/DELETE of this transport goes that way (see `methodOverride`). The repeat is safe:
 * the proxy's refusal means the server never saw the first one, and the writes the panel makes
 * this way are idempotent anyway (a message PUT carries its client id, contacts, presence and
 * channels are set to a state, a relay chunk carries its sequence number).
 */
import type { Endpoint } from './endpoints.js';
import { ApiError, asApiError, networkError } from './errors.js';
import { uploadWithProgress, type UploadProgress } from './upload.js';
import { SerialQueue } from './util.js';

/** The methods a GET/POST-only proxy refuses, and the header that carries them over a POST. */
const OVERRIDABLE = new Set(['PUT', 'PATCH', 'DELETE']);
export const METHOD_OVERRIDE_HEADER = 'X-HTTP-Method-Override';

/** A 403/405 that is not the server's own answer: a proxy on the way refused the method. */
const refusedByProxy = (err: unknown): boolean => err instanceof ApiError && (err.status === 403 || err.status === 405) && !err.fromServer;

/**
 * The error of an answer that is not ok: the server's `{error: {code, message, issues?}}` with its
 * status, else (a proxy's or a login page's) `http_<status>`. `data` is the parsed body, if it was JSON.
 */
export function answerError(res: Response, data: unknown): ApiError {
  const retryHeader = Number(res.headers.get('retry-after'));
  const retry = Number.isFinite(retryHeader) && retryHeader > 0 ? { retryAfter: retryHeader } : {};
  const error = (data as { error?: { code?: unknown; message?: unknown; issues?: unknown } } | null | undefined)?.error;
  if (error && typeof error.code === 'string') {
    return new ApiError(res.status, error.code, typeof error.message === 'string' ? error.message : error.code, {
      ...(Array.isArray(error.issues) ? { issues: error.issues as Array<{ path: string; message: string }> } : {}),
      ...retry,
    });
  }
  return new ApiError(res.status, `http_${res.status}`, `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`, retry);
}

/** JSON.parse, or `parsed: false` for a body that is not JSON (an empty one included). */
function parseJson(text: string): { parsed: boolean; data?: unknown } {
  if (text === '') return { parsed: false };
  try {
    return { parsed: true, data: JSON.parse(text) as unknown };
  } catch {
    return { parsed: false };
  }
}

export interface LaneOptions {
  /** The token to send: the current session's when undefined, none when null. */
  token?: string | null;
  /** Report a 401 to `onUnauthorized` (default true). */
  authEvent?: boolean;
}

export interface TransportOptions {
  baseUrl: string;
  fetch: typeof fetch;
  /** Request-lane requests are abandoned after this long (ms). */
  requestTimeoutMs: number;
  /** The current session's token, read when a request goes out. */
  token: () => string | undefined;
  /** The server refused `token` (a 401 of its own). */
  onUnauthorized: (token: string, error: ApiError) => void;
}

export type BinaryInit = { method: 'GET' | 'PUT'; body?: Blob; signal?: AbortSignal };

export class Transport {
  readonly baseUrl: string;
  private readonly lane = new SerialQueue();
  /** A proxy refused a PUT/PATCH/DELETE and the override worked: send them as POST from now on. */
  private overrideMethods = false;

  constructor(private readonly options: TransportOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  /** Whether PUT, PATCH and DELETE go as POST with X-HTTP-Method-Override (for the rest of this object's life). */
  get methodOverride(): boolean {
    return this.overrideMethods;
  }

  /** An absolute URL for a path of the server (media URLs are paths on the server's origin). */
  resolveUrl(path: string): string {
    return /^[a-z][a-z0-9+.-]*:/i.test(path) ? path : this.baseUrl + path;
  }

  /**
   * Runs `attempt` with the method as it is, or, for PUT/PATCH/DELETE once a proxy has refused
   * one, as POST with the override header; on a proxy's refusal it tries once more overridden,
   * and remembers the override when the server answered that one.
   */
  private async overridable<T>(method: string, signal: AbortSignal | undefined, attempt: (override: boolean) => Promise<T>): Promise<T> {
    if (!OVERRIDABLE.has(method)) return attempt(false);
    if (this.overrideMethods) return attempt(true);
    try {
      return await attempt(false);
    } catch (err) {
      if (!refusedByProxy(err) || signal?.aborted) throw err;
    }
    try {
      const result = await attempt(true);
      this.overrideMethods = true;
      return result;
    } catch (err) {
      // The server's own error (a 404, a 409...) also shows the override reached it.
      if (err instanceof ApiError && err.fromServer) this.overrideMethods = true;
      throw err;
    }
  }

  private async fetchOnce(path: string, init: RequestInit): Promise<Response> {
    try {
      const f = this.options.fetch;
      return await f(this.baseUrl + path, init);
    } catch (err) {
      throw networkError(err instanceof Error ? err.message : String(err), err);
    }
  }

  /** One JSON request and its whole answer (the body is read before this returns); outside the lane (the poll's). */
  exchange<T>(method: string, path: string, body: unknown, token: string | undefined, signal: AbortSignal): Promise<T> {
    return this.overridable(method, signal, (override) => this.exchangeOnce<T>(method, override, path, body, token, signal));
  }

  private async exchangeOnce<T>(method: string, override: boolean, path: string, body: unknown, token: string | undefined, signal: AbortSignal): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (override) headers[METHOD_OVERRIDE_HEADER] = method;
    const init: RequestInit = { method: override ? 'POST' : method, headers, signal };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await this.fetchOnce(path, init);
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw networkError(err instanceof Error ? err.message : String(err), err);
    }
    const { parsed, data } = parseJson(text);
    if (!res.ok) throw answerError(res, data);
    if (!parsed && text !== '') throw new ApiError(res.status, 'bad_response', 'the answer is not JSON (a proxy or login page in between?)');
    return data as T;
  }

  /** A request on the request lane: after the ones asked before it, one at a time, with a timeout. */
  request<T>(method: string, path: string, body: unknown, options: LaneOptions = {}): Promise<T> {
    return this.lane.run(async () => {
      const token = options.token === undefined ? this.options.token() : (options.token ?? undefined);
      const controller = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, this.options.requestTimeoutMs);
      try {
        return await this.exchange<T>(method, path, body, token, controller.signal);
      } catch (err) {
        if (timedOut) throw networkError(`no answer within ${this.options.requestTimeoutMs} ms`, err);
        const e = asApiError(err);
        if (e.isUnauthorized && token !== undefined && options.authEvent !== false) this.options.onUnauthorized(token, e);
        throw e;
      } finally {
        clearTimeout(timer);
      }
    });
  }

  /** A call of the endpoint table (endpoints.ts) on the request lane: its method, path and body, and the part of the answer it picks. */
  async call<A extends unknown[], Answer, Result>(endpoint: Endpoint<A, Answer, Result>, args: A, options?: LaneOptions): Promise<Result> {
    return endpoint.pick(await this.request<Answer>(endpoint.method, endpoint.path(...args), endpoint.body?.(...args), options));
  }

  /**
   * A file upload (POST, the file as the body) outside the request lane, with the session's token
   * and upload progress (upload.ts): the answer's JSON, else ApiError like request().
   */
  async upload<T>(path: string, body: Blob, onProgress?: UploadProgress, signal?: AbortSignal): Promise<T> {
    const token = this.options.token();
    try {
      return await uploadWithProgress<T>(this.baseUrl + path, { body, token, onProgress, signal, fetch: this.options.fetch, answerError });
    } catch (err) {
      if (err instanceof ApiError && err.isUnauthorized && token !== undefined) this.options.onUnauthorized(token, err);
      throw err;
    }
  }

  /**
   * A binary request (a call's HTTP relay) outside the request lane, with the session's token:
   * the answer as it is when ok (the caller reads the body), else ApiError like request().
   */
  async binary(path: string, init: BinaryInit): Promise<Response> {
    const token = this.options.token();
    try {
      return await this.overridable(init.method, init.signal, (override) => this.binaryOnce(path, init, token, override));
    } catch (err) {
      if (err instanceof ApiError && err.isUnauthorized && token !== undefined) this.options.onUnauthorized(token, err);
      throw err;
    }
  }

  private async binaryOnce(path: string, init: BinaryInit, token: string | undefined, override: boolean): Promise<Response> {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (init.body) headers['content-type'] = init.body.type;
    if (override) headers[METHOD_OVERRIDE_HEADER] = init.method;
    const method = override ? 'POST' : init.method;
    const res = await this.fetchOnce(path, { method, headers, body: init.body ?? null, signal: init.signal ?? null, cache: 'no-store' });
    if (res.ok) return res;
    const text = await res.text().catch(() => '');
    throw answerError(res, parseJson(text).data);
  }
}
