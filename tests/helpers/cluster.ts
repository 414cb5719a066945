/**
 * A Portico cluster on loopback (issue 15): its own PostgreSQL cluster and Redis (Debian's, in
 * temporary directories on free ports), N built-server nodes (`portico start` child processes, as
 * in production) sharing the database, Redis, one data directory (and so the secret, media...),
 * and a real nginx in front: round robin over the nodes, the HTTP call relay hashed by call id
 * (`clusterSite`, the configuration docs/deployment.md shows). Nodes can be killed (SIGKILL) and
 * started again; PostgreSQL stopped, killed and started again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChildServer, type ChildServer } from './child-server.js';
import { startNginxWith, type Nginx } from './nginx.js';
import { HAVE_POSTGRES, startPostgres, type Postgres } from './postgres.js';
import { HAVE_REDIS, startRedis, type Redis } from './redis.js';
import { ADMIN_PASSWORD, Client } from './server.js';

export const HAVE_CLUSTER_PARTS = HAVE_POSTGRES && HAVE_REDIS;

export interface Cluster {
  db: Postgres;
  redis: Redis;
  nodes: ChildServer[];
  nginx: Nginx;
  /** nginx's address: where panels connect. */
  url: string;
  dataDir: string;
  /** The admin, logged in through nginx. */
  admin: Client;
  /** A client of `username` (made if missing, password `password`) logged in through `via` (a URL). */
  user(username: string, via?: string, password?: string): Promise<Client>;
  /** Output of every node (for failure messages). */
  output(): string;
  destroy(): Promise<void>;
}

/**
 * nginx's `http` block for a cluster: every request round robin over the nodes, but the HTTP call
 * relay (`/api/v1/calls/<id>/relay/...`: a call's media buffers live on one node) on the node its
 * call id hashes to. Long polls need a read timeout above the longest wait (55 s); HTTP/1.1 with
 * keep-alive to the nodes; a request a node could not take (it is down) goes to the next one
 * (nginx retries only idempotent methods; message sends are PUT by client id, so a retry creates
 * nothing twice, and clients retry the rest). A 503 is passed on as it is: it means the database
 * is out of reach, for every node alike, and counting it as a node's failure would mark them all
 * down (nginx then answers 502 until fail_timeout ends).
 */
export function clusterSite(listen: string, nodes: string[]): string {
  const servers = nodes.map((n) => `    server ${n} max_fails=1 fail_timeout=2s;`).join('\n');
  return `
  upstream portico {
${servers}
    keepalive 64;
  }
  upstream portico_relay {
    hash $call_id consistent;
${servers}
    keepalive 16;
  }
  server {
    listen ${listen};
    # Chat files up to PORTICO_CHAT_FILE_MB (100 MiB by default) and their form.
    client_max_body_size 110m;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_read_timeout 90s;
    proxy_next_upstream error timeout;
    proxy_next_upstream_tries 3;
    location / {
      proxy_pass http://portico;
    }
    location ~ ^/api/v1/calls/(?<call_id>[^/]+)/relay/ {
      proxy_pass http://portico_relay;
      proxy_buffering off;
      proxy_request_buffering off;
    }
  }`;
}

export async function startCluster(options: { nodes?: number; env?: Record<string, string> } = {}): Promise<Cluster> {
  const count = options.nodes ?? 3;
  const dataDir = mkdtempSync(join(tmpdir(), 'portico-cluster-'));
  const [db, redis] = await Promise.all([startPostgres(), startRedis()]);
  const env = {
    PORTICO_DATABASE_URL: db.url,
    PORTICO_REDIS_URL: redis.url,
    // Addresses come from nginx's X-Forwarded-For (the limits count per address).
    PORTICO_TRUST_PROXY: 'true',
    PORTICO_ADMIN_PASSWORD: ADMIN_PASSWORD,
    ...options.env,
  };
  const nodes: ChildServer[] = [];
  for (let i = 0; i < count; i++) nodes.push(await startChildServer(env, { dataDir, wait: false }));
  // All together on the empty database and data directory: one migration, one admin, one secret.
  await Promise.all(nodes.map((n) => n.start()));
  const nginx = await startNginxWith((port) => clusterSite(`127.0.0.1:${port}`, nodes.map((n) => `127.0.0.1:${n.port}`)));
  const admin = await Client.login(nginx.url, 'admin', ADMIN_PASSWORD);
  return {
    db,
    redis,
    nodes,
    nginx,
    url: nginx.url,
    dataDir,
    admin,
    async user(username, via = nginx.url, password = 'correct horse battery') {
      const made = await admin.post('/api/v1/admin/users', { username, password });
      if (made.status !== 201 && made.status !== 409) throw new Error(`user ${username}: ${made.status} ${JSON.stringify(made.body)}`);
      return Client.login(via, username, password);
    },
    output: () => nodes.map((n, i) => `--- node ${i} (${n.url}) ---\n${n.output().slice(-3000)}`).join('\n'),
    async destroy() {
      await nginx.stop().catch(() => {});
      await Promise.all(nodes.map((n) => n.destroy()));
      await redis.stop();
      await db.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A client of the same session that talks to another address (one node, or nginx). */
export function via(client: Client, baseUrl: string): Client {
  const other = new Client(baseUrl, client.token, client.username);
  other.cursor = client.cursor;
  return other;
}
