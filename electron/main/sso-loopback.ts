/**
 * Single sign-on for the desktop app, RFC 8252 style (OAuth for native apps): the sign-in runs in
 * the system browser, where the user may already be signed in to the company's provider, and
 * comes back through a one-shot listener on http://127.0.0.1:<random port>/callback.
 *
 * The server does the OpenID Connect part (server/src/sso/routes.ts): the browser opens
 * `<server>/api/v1/sso/start?return_to=<this listener>&challenge=<S256 of a verifier>`, and after
 * the provider the server sends it here with `?code=<one-time code>` (or `?error=<code>`). The
 * panel trades the code, with the verifier only this process knows, at POST /api/v1/sso/exchange:
 * a code another program on the computer catches is of no use to it.
 *
 * Plain Node (no electron import), so it is tested without Electron.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { SsoLoopbackResult as LoopbackResult } from '../preload/bridge.js';

export type { LoopbackResult };

export interface LoopbackOptions {
  /** The server's address (origin and optional path prefix), as configured. */
  serverUrl: string;
  /** Opens a URL in the system browser (shell.openExternal). */
  open: (url: string) => Promise<void>;
  /** How long the user may take at the provider (default 5 minutes). */
  timeoutMs?: number;
  /** The page the browser shows when it is sent back. */
  donePage?: string;
}

const DONE_PAGE =
  '<!doctype html><meta charset="utf-8"><title>Portico</title><body style="font-family:sans-serif;text-align:center;margin-top:3em">' +
  '<p>You can close this tab and return to Portico.</p><p>このタブを閉じて Portico に戻ってください。</p></body>';

/** The start URL for a listener on `port`, with the PKCE challenge of `verifier`. */
export function loopbackStartUrl(serverUrl: string, port: number, verifier: string): string {
  const start = new URL(`${serverUrl.replace(/\/+$/, '')}/api/v1/sso/start`);
  start.searchParams.set('return_to', `http://127.0.0.1:${port}/callback`);
  start.searchParams.set('challenge', createHash('sha256').update(verifier).digest('base64url'));
  return start.href;
}

/**
 * Runs one sign-in: listens, opens the browser, waits for the one request to /callback. Rejects
 * when the browser cannot be opened or nobody comes back in time; the listener is closed in
 * every case.
 */
export async function loopbackSignIn({ serverUrl, open, timeoutMs = 5 * 60_000, donePage = DONE_PAGE }: LoopbackOptions): Promise<LoopbackResult> {
  const verifier = randomBytes(32).toString('base64url');
  let settle!: (result: LoopbackResult) => void;
  const answered = new Promise<LoopbackResult>((resolve) => (settle = resolve));
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const code = url.searchParams.get('code');
    const error = url.searchParams.get('error');
    if (req.method !== 'GET' || url.pathname !== '/callback' || (!code && !error)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', connection: 'close' }).end(donePage);
    settle(code ? { code, verifier } : { error: error!.slice(0, 100) });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const { port } = server.address() as AddressInfo;
    await open(loopbackStartUrl(serverUrl, port, verifier));
    return await Promise.race([
      answered,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('single sign-on: nobody came back from the browser in time')), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    server.closeAllConnections();
    server.close();
  }
}
