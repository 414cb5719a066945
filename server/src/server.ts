/**
 * Starts a Portico server: opens the store in the data directory, wires the parts together,
 * listens, creates the first admin on an empty one (only once listening: a failed start creates
 * no admin nobody has the password of), and runs the background duties (presence
 * sweeper, changes from the admin CLI, retention, the media sweep). `close()` stops all of it cleanly.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import pino, { type Logger } from 'pino';
import { TIMINGS } from '../../shared/index.js';
import { Accounts } from './admin/accounts.js';
import { accountHooks } from './admin/routes.js';
import { buildApp } from './app.js';
import { Directory } from './directory/ldap.js';
import { DirectorySync } from './directory/sync.js';
import { SsoClient } from './sso/oidc.js';
import { randomPassword } from './auth/passwords.js';
import { Sessions } from './auth/sessions.js';
import { RelayBuffers } from './calls/relay.js';
import { CallService } from './calls/service.js';
import { ConfigError, databaseFile, type ServerConfig } from './config.js';
import type { Services } from './context.js';
import { EventHub } from './events/hub.js';
import { MediaSweeper } from './media/sweeper.js';
import { ChatFileSweeper } from './chat/files.js';
import { Subscriptions } from './events/subscriptions.js';
import { PresenceService } from './presence/service.js';
import { ConnectionTracker } from './presence/tracker.js';
import { ProviderGate } from './providers/cgi.js';
import { SharedLimits } from './http/shared-limits.js';
import { privateDirSync, tightenTree } from './private-fs.js';
import { ServerSecret } from './secrets.js';
import { openStore } from './store/open.js';
import type { Store } from './store/store.js';
import { closeServer, resolveTls, startTls, type TlsListeners } from './tls/listen.js';

export interface RunningServer {
  url: string;
  port: number;
  /** Set when this start created the admin user with a generated password (shown once). */
  generatedAdminPassword?: string;
  /** The data directory had users but no administrator, so no "admin" was made (users added before the first start). */
  noAdministrator: boolean;
  services: Services;
  http: Server;
  /** With TLS on: the HTTPS address, its listener, the redirect-only plain listener (if any). */
  httpsUrl?: string;
  httpsPort?: number;
  redirectUrl?: string;
  tls?: TlsListeners;
  close(): Promise<void>;
}

/** A port that is taken or not ours to use, said plainly (the start stops with this message). */
function listenError(error: unknown): unknown {
  const e = error as NodeJS.ErrnoException & { port?: number; address?: string };
  const where = `port ${e.port} on ${e.address}`;
  if (e.code === 'EADDRINUSE') return new ConfigError(`${where} is in use (another server?): stop it, or choose another port with --port or PORTICO_PORT`);
  if (e.code === 'EACCES') return new ConfigError(`not allowed to listen on ${where} (ports below 1024 need privileges): choose another port with --port or PORTICO_PORT`);
  if (e.code === 'EADDRNOTAVAIL') return new ConfigError(`${e.address} is not an address of this machine: choose another with --host or PORTICO_HOST`);
  return error;
}

export { databaseFile } from './config.js';

export async function startServer(config: ServerConfig, log: Logger = pino({ level: config.logLevel })): Promise<RunningServer> {
  // Private whatever the umask, a pre-created directory, or what an older version left 0644/0755.
  const unfixable = tightenTree(privateDirSync(resolve(config.dataDir)));
  if (unfixable.length) log.warn({ paths: unfixable.slice(0, 20), count: unfixable.length }, 'cannot make these data directory files private (0600/0700): chown them to the server user');
  // With TLS on, the plain port answers on loopback only (local scripts, health checks, metrics):
  // the network gets HTTPS (and, if configured, a listener that only redirects to it).
  const tlsSource = resolveTls(config);
  let store: Store;
  try {
    store = await openStore({ file: databaseFile(config.dataDir), databaseUrl: config.databaseUrl });
  } catch (error) {
    if (!config.databaseUrl) throw error;
    throw new ConfigError(`cannot open the PostgreSQL database of PORTICO_DATABASE_URL: ${(error as Error).message}`);
  }

  await store.cluster?.start(); // several nodes: the link to the others, and the contest for the lead
  const hub = new EventHub();
  store.onCommit((events) => hub.publish(events));
  const subscriptions = new Subscriptions(store, hub);
  const onError = (err: unknown) => log.error({ err }, 'background task failed');
  const presence = new PresenceService(store, new ConnectionTracker(config.presenceGraceMs), onError);
  // Those online before a restart get one full poll cycle to come back before showing offline.
  await presence.restore(TIMINGS.pollWaitMax * 1000 + config.presenceGraceMs);
  const secret = ServerSecret.load(resolve(config.dataDir));
  let limits: SharedLimits;
  try {
    limits = config.redisUrl ? await SharedLimits.connect(config.redisUrl, (err) => log.warn({ err }, 'redis: limits fall back to this node until it answers')) : SharedLimits.local();
  } catch (error) {
    await store.close();
    throw new Error(`cannot reach Redis at PORTICO_REDIS_URL: ${(error as Error).message}`);
  }
  const providers = new ProviderGate(store, secret, join(resolve(config.dataDir), 'tmp'), config, limits);
  const calls = new CallService(store, presence, config, subscriptions);
  await calls.restore(TIMINGS.pollWaitMax * 1000 + config.presenceGraceMs);
  await calls.sweep(); // rings that ran out while the server was down
  const services: Services = { config, log, store, sessions: new Sessions(store, config.sessionDays), hub, subscriptions, presence, secret, providers, limits, calls, relay: new RelayBuffers() };
  let directory: Directory | undefined;
  try {
    directory = Directory.from(config);
  } catch (error) {
    await Promise.all([store.close(), limits.close()]);
    throw new ConfigError(`cannot read a file of the directory settings (PORTICO_LDAP_BIND_PASSWORD_FILE, PORTICO_LDAP_CA_FILE): ${(error as Error).message}`);
  }
  if (directory) services.directory = { client: directory, sync: new DirectorySync(store, directory, accountHooks(services)) };
  try {
    services.sso = SsoClient.from(config);
  } catch (error) {
    await Promise.all([store.close(), limits.close()]);
    throw new ConfigError(`cannot read PORTICO_OIDC_CLIENT_SECRET_FILE: ${(error as Error).message}`);
  }
  // The issuer's discovery document, fetched now so the first sign-in is quick; if the issuer is
  // down, the first sign-in tries again (503 sso_unavailable meanwhile) and local login works.
  services.sso?.configuration().catch((err: unknown) => log.warn({ err }, 'single sign-on: the OpenID Connect issuer cannot be reached yet; sign-ins will try again'));

  const lane = buildApp(services);
  // The ports are bound before the first admin is made (below), so a request can come before the
  // start is complete: it waits for it rather than meet a server without its administrator.
  let started = false;
  let markStarted!: () => void;
  const whenStarted = new Promise<void>((ok) => (markStarted = ok));
  const handle: RequestListener = (req, res) => {
    if (started) lane(req, res);
    else void whenStarted.then(() => lane(req, res));
  };
  const http = createServer(handle);
  http.keepAliveTimeout = 30_000; // re-polls reuse the connection; proxies keep theirs open longer
  // Bound how long a client may take to send its request (slow senders hold sockets); held polls
  // are not affected: these limits end when the request has arrived.
  http.headersTimeout = 20_000;
  http.requestTimeout = 15 * 60_000; // a 500 MiB video upload on a 10 Mbit/s line takes ~7 minutes
  try {
    await new Promise<void>((ok, fail) => {
      http.once('error', fail);
      http.listen(config.port, tlsSource ? (config.host.includes(':') ? '::1' : '127.0.0.1') : config.host, () => ok());
    });
  } catch (error) {
    await Promise.all([store.close(), limits.close()]);
    throw listenError(error);
  }
  const port = (http.address() as AddressInfo).port;
  const host = tlsSource ? (config.host.includes(':') ? '[::1]' : '127.0.0.1') : config.host.includes(':') ? `[${config.host}]` : config.host;
  let tls: TlsListeners | undefined;
  if (tlsSource) {
    try {
      tls = await startTls(config, tlsSource, handle, (server) => {
        server.keepAliveTimeout = http.keepAliveTimeout;
        server.headersTimeout = http.headersTimeout;
        server.requestTimeout = http.requestTimeout;
      }, log);
    } catch (error) {
      http.close();
      await Promise.all([store.close(), limits.close()]);
      throw listenError(error);
    }
  }

  // Only once every port is ours: a start that fails creates no admin whose password nobody saw.
  let generatedAdminPassword: string | undefined;
  let noAdministrator = false;
  try {
    if ((await store.countUsers()) === 0) {
      const password = config.adminPassword ?? randomPassword();
      // Nodes of a cluster starting together on an empty database all see no user: the unique
      // username lets one make admin; the others lose the race and leave it be.
      const made = await new Accounts(store).createUser({ username: 'admin', password, displayName: 'Administrator', isAdmin: true }).then(
        () => true,
        (error: unknown) => {
          if ((error as { code?: string }).code === 'username_taken') return false;
          throw error;
        },
      );
      if (made) {
        if (!config.adminPassword) generatedAdminPassword = password;
        log.info('created the user admin');
      }
    } else if (!(await store.listUsers()).some((u) => u.isAdmin)) {
      noAdministrator = true; // users were added before the first start
      log.warn('there is no administrator: make one with `portico user add NAME --admin`');
    }
  } catch (error) {
    await Promise.all([closeServer(http), ...(tls ? [closeServer(tls.https), ...(tls.redirect ? [closeServer(tls.redirect)] : [])] : [])]);
    await store.close();
    throw error;
  }
  started = true;
  markStarted();

  const every = (ms: number, task: () => unknown) => {
    const timer = setInterval(() => {
      try {
        Promise.resolve(task()).catch(onError);
      } catch (err) {
        onError(err);
      }
    }, ms);
    timer.unref();
    return timer;
  };
  const HOUR = 3600_000;
  const mediaSweeper = new MediaSweeper(store, config.dataDir, log);
  const chatFileSweeper = new ChatFileSweeper(store, config.dataDir, log);
  // Several nodes (PostgreSQL): the duties that must run once per cluster run on the node that
  // holds the leader lock (store/pg-cluster.ts; another takes over when it dies); on one node, here.
  const leads = () => store.cluster?.leads() ?? true;
  const once = (task: () => unknown) => () => (leads() ? task() : undefined);
  const timers = [
    // Expired media and games, and their files; chat files no message carries (the data directory is shared: once).
    every(config.mediaSweepMs, once(() => mediaSweeper.sweep())),
    every(config.mediaSweepMs, once(() => chatFileSweeper.sweep())),
    // This node's connections, on every node; a transition is decided inside the write lock
    // against what is announced, so two nodes never announce the same one.
    every(config.sweepIntervalMs, () => presence.sweep()),
    // Rings end on time to within a quarter of the ring timeout (at most a second). On every node:
    // a ring is ended inside the write lock only if it still rings, and a member hung up only if
    // connected on no node, so a second sweeper finds nothing left to do.
    every(Math.max(config.sweepIntervalMs, Math.min(1000, calls.ringMs / 4)), () => calls.sweep()),
    every(config.externalSyncMs, async () => {
      // Another process (the admin CLI, another node) wrote: contacts, groups or channels may have moved.
      if (await store.syncExternal()) subscriptions.changedHere('all');
    }),
    every(HOUR, once(async () => {
      await store.pruneEvents(Date.now() - config.eventRetentionDays * 24 * HOUR);
      await store.deleteExpiredSessions(Date.now());
      await store.cluster?.leases.prune(Date.now() - HOUR);
    })),
  ];
  if (store.cluster) {
    // Leases of the connections here, a few times per grace; those announced online whom no node
    // holds any more (their node died), once per cluster.
    timers.push(every(Math.max(10, Math.min(1000, config.presenceGraceMs / 4)), () => presence.flushLeases()));
    timers.push(every(config.sweepIntervalMs, once(() => presence.sweepCluster())));
  }
  if (services.directory && config.ldapSyncMinutes > 0) {
    const { sync } = services.directory;
    const syncDirectory = async () => {
      try {
        const { changes, notes } = await sync.run();
        if (changes.length) log.info({ changes: changes.length }, 'directory sync applied changes');
        if (notes.length) log.debug({ notes }, 'directory sync left entries alone');
      } catch (err) {
        log.warn({ err }, 'directory sync failed; the next one retries');
      }
    };
    timers.push(every(config.ldapSyncMinutes * 60_000, once(syncDirectory)));
    timers.push(setTimeout(once(syncDirectory), 0)); // the first right after the start
  }
  services.relay.startSweeping(10_000); // relay buffers of calls that ended unseen; close() stops it

  let closed: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    generatedAdminPassword,
    noAdministrator,
    services,
    http,
    httpsUrl: tls?.url,
    httpsPort: tls?.port,
    redirectUrl: tls?.redirectUrl,
    tls,
    close: () =>
      (closed ??= (async () => {
        timers.forEach(clearInterval);
        // Stop listening first, then answer the held polls, telling their clients not to reuse
        // the connection; closeServer closes the idle ones as they come free.
        lane.shutDown();
        const closing = closeServer(http);
        hub.wakeAll();
        services.relay.close();
        await closing;
        await presence.idle();
        await tls?.close();
        await mediaSweeper.idle();
        await services.directory?.sync.idle();
        await chatFileSweeper.idle();
        await Promise.all([store.close(), services.limits.close()]);
      })()),
  };
}
