/**
 * The HTTPS side of the server: the TLS listener (same Koa callback as plain HTTP), the optional
 * port-80 listener that only redirects to HTTPS, and the certificate reload: the certificate and
 * key files are watched (and `reload()` is called on SIGHUP); a new pair goes in with
 * setSecureContext, which applies to new handshakes only, so held polls on open connections
 * carry on undisturbed.
 */
import { unwatchFile, watchFile } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { SecureContextOptions } from 'node:tls';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config.js';
import { loadServerPair, tlsSource, TlsError, type TlsSource } from './certs.js';

export const HSTS = 'max-age=31536000';
const DEFAULT_HTTPS_PORT = 443;

/**
 * Mozilla's "intermediate" profile (v5.7), without its DHE suites (they need ffdhe2048 parameters
 * and add nothing for clients that have ECDHE): TLS 1.2 and 1.3 only, forward-secret AEAD suites
 * only (no static RSA, no CBC, no SHA-1 MAC, no CCM8). Node's default list ends in HIGH, which
 * let in a dozen suites without forward secrecy. The TLS 1.3 suites must be named too: a list
 * without any TLS_ entry turns TLS 1.3 off in Node. All are strong, so the client picks
 * (honorCipherOrder false): a phone without AES hardware prefers ChaCha20.
 */
export const TLS_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** The TLS settings of every listener the server makes (initial context and reloads alike). */
export const contextOptions = (cert: string, key: string): SecureContextOptions => ({
  cert,
  key,
  minVersion: 'TLSv1.2',
  ciphers: TLS_CIPHERS,
  honorCipherOrder: false,
});

/** Which TLS files to serve, or undefined when TLS is off (config `tls`: true, false, or unset for auto). */
export function resolveTls(config: ServerConfig): TlsSource | undefined {
  if (config.tls === false) return undefined;
  const source = tlsSource(config.dataDir, config.tlsCert, config.tlsKey);
  if (!source && config.tls === true) {
    throw new TlsError('TLS is on (PORTICO_TLS=true) but there is no certificate: run `portico cert init`, or give PORTICO_TLS_CERT and PORTICO_TLS_KEY');
  }
  return source;
}

export interface TlsListeners {
  https: HttpsServer;
  url: string;
  port: number;
  redirect?: Server;
  redirectUrl?: string;
  source: TlsSource;
  /** Fingerprint (AA:BB:...) of the certificate being served to new connections. */
  fingerprint256(): string;
  /** Re-reads the certificate and key; answers whether the new pair was taken (a bad pair keeps the old one). */
  reload(): boolean;
  close(): Promise<void>;
}

const listen = (server: Server | HttpsServer, port: number, host: string) =>
  new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      ok();
    });
  });

/** Closes a server, letting idle keep-alive connections go at once and cutting busy ones after 2 s. */
export const closeServer = (server: Server | HttpsServer) =>
  new Promise<void>((ok) => {
    if (!server.listening) return ok();
    const idle = setInterval(() => server.closeIdleConnections(), 10);
    const busy = setTimeout(() => server.closeAllConnections(), 2000);
    server.close(() => {
      clearInterval(idle);
      clearTimeout(busy);
      ok();
    });
    server.closeIdleConnections();
  });

const urlHost = (host: string) => (host.includes(':') ? `[${host}]` : host);

/** A listener that answers everything with 308 to the same path on HTTPS. */
function redirector(httpsPort: number, fallbackHost: string): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    // The name the client used, without its port; anything odd falls back to the configured host.
    const given = (req.headers.host ?? '').trim();
    const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d+)?$/.exec(given);
    const host = match ? match[1]! : urlHost(fallbackHost);
    const path = (req.url ?? '/').startsWith('/') ? req.url! : '/';
    const location = `https://${host}${httpsPort === 443 ? '' : `:${httpsPort}`}${path}`;
    res.writeHead(308, {
      Location: location,
      'Content-Type': 'text/plain; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      Connection: 'close',
    });
    res.end(`Moved to ${location}\n`);
  };
}

export async function startTls(
  config: ServerConfig,
  source: TlsSource,
  callback: RequestListener,
  tune: (server: Server | HttpsServer) => void,
  log: Logger,
): Promise<TlsListeners> {
  let current = loadServerPair(source);
  if (new Date(current.cert.validTo) < new Date()) log.warn({ file: source.certPath, validTo: current.cert.validTo }, 'the TLS certificate has expired: run `portico cert renew`');

  const https = createHttpsServer(contextOptions(current.certPem, current.keyPem), callback);
  tune(https);
  await listen(https, config.httpsPort ?? DEFAULT_HTTPS_PORT, config.host);
  const port = (https.address() as AddressInfo).port;

  let redirect: Server | undefined;
  let redirectUrl: string | undefined;
  if (config.httpRedirectPort !== undefined) {
    redirect = createHttpServer(redirector(port, config.host));
    redirect.headersTimeout = 10_000;
    redirect.requestTimeout = 20_000;
    try {
      await listen(redirect, config.httpRedirectPort, config.host);
    } catch (error) {
      await closeServer(https);
      throw error;
    }
    redirectUrl = `http://${urlHost(config.host)}:${(redirect.address() as AddressInfo).port}`;
  }

  const reload = () => {
    let next;
    try {
      next = loadServerPair(source);
    } catch (error) {
      log.warn({ err: error }, 'TLS files changed but cannot be used; still serving the previous certificate');
      return false;
    }
    if (next.cert.fingerprint256 === current.cert.fingerprint256 && next.keyPem === current.keyPem) return true;
    https.setSecureContext(contextOptions(next.certPem, next.keyPem));
    current = next;
    log.info({ file: source.certPath, validTo: next.cert.validTo, fingerprint256: next.cert.fingerprint256 }, 'TLS certificate reloaded');
    return true;
  };

  // Renewal writes key and certificate one after the other: wait for both before loading.
  let pending: NodeJS.Timeout | undefined;
  const changed = () => {
    clearTimeout(pending);
    pending = setTimeout(reload, 150);
    pending.unref();
  };
  const interval = Math.min(1000, Math.max(20, config.externalSyncMs));
  for (const file of [source.certPath, source.keyPath]) watchFile(file, { interval, persistent: false }, changed);

  return {
    https,
    url: `https://${urlHost(config.host)}:${port}`,
    port,
    redirect,
    redirectUrl,
    source,
    fingerprint256: () => current.cert.fingerprint256,
    reload,
    async close() {
      clearTimeout(pending);
      for (const file of [source.certPath, source.keyPath]) unwatchFile(file, changed);
      await Promise.all([closeServer(https), redirect ? closeServer(redirect) : undefined]);
    },
  };
}
