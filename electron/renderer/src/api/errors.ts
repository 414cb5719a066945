/**
 * ApiError: every failure of the API client. A server answer `{error: {code, message}}` keeps its
 * status and code; a request that got no answer at all (refused, reset, cut by a proxy, timed out)
 * has status 0 and code 'network'.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  /** HTTP status, or 0 when no answer came. */
  readonly status: number;
  /** The server's error code (shared/errors.ts), or 'network', 'http_<status>', 'bad_response'. */
  readonly code: string;
  /** Field-level detail the server gives with invalid_request. */
  readonly issues?: Array<{ path: string; message: string }>;
  /** Seconds from a Retry-After header (429, 503), when given. */
  readonly retryAfter?: number;

  constructor(
    status: number,
    code: string,
    message: string,
    extra: { issues?: Array<{ path: string; message: string }>; retryAfter?: number; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.status = status;
    this.code = code;
    if (extra.issues) this.issues = extra.issues;
    if (extra.retryAfter !== undefined) this.retryAfter = extra.retryAfter;
  }

  /** No answer came: the request may or may not have reached the server. */
  get isNetwork(): boolean {
    return this.status === 0;
  }

  /** The answer came from the Portico server itself (an `{error: {code, message}}` body). */
  get fromServer(): boolean {
    return this.status !== 0 && !this.code.startsWith('http_') && this.code !== 'bad_response';
  }

  /** The server no longer accepts the session (not a 401 of some proxy in between). */
  get isUnauthorized(): boolean {
    return this.status === 401 && this.fromServer;
  }

  /**
   * Worth sending again unchanged: no answer, a 5xx, 408 or 429, or an answer that is not the
   * server's (a proxy's error page, a captive portal). Any other 4xx is the server's answer and
   * will not change by repeating the request.
   */
  get isTransient(): boolean {
    return this.status === 0 || this.status >= 500 || this.status === 408 || this.status === 429 || !this.fromServer;
  }
}

export const networkError = (message: string, cause?: unknown) => new ApiError(0, 'network', message, { cause });

/** Anything a request threw, as an ApiError (what is not one already counts as no answer). */
export const asApiError = (err: unknown): ApiError =>
  err instanceof ApiError ? err : networkError(err instanceof Error ? err.message : String(err), err);
