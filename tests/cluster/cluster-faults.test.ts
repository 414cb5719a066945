/**
 * Faults in a cluster (issue 15): 3 built-server nodes on one PostgreSQL and Redis behind nginx
 * (tests/helpers/cluster.ts), panels (the real API client module) connected through nginx.
 * - A node SIGKILLed under load, several times (seeded: the seed is printed, CLUSTER_SEED=<n>
 *   repeats it): every acknowledged message is there afterwards, none twice, each sender's order
 *   kept, every member got every message once in the history's order; while a node is down the
 *   panels carry on through the others.
 * - The nodes' LISTEN connections cut (pg_terminate_backend) while messages flow: nothing is lost,
 *   and each node listens again by itself.
 * - PostgreSQL restarted: the nodes answer 503 `unavailable` meanwhile, stay up, reconnect by
 *   themselves; a panel's send made during the outage arrives afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStorage, PorticoClient, type OutboxEntry } from '../../electron/renderer/src/api/index.js';
import { HAVE_CLUSTER_PARTS, startCluster, type Cluster } from '../helpers/cluster.js';
import { Client, PASSWORD, send } from '../helpers/server.js';
import { record, rng, sleep, startReady, until } from '../reliability/common.js';

let cluster: Cluster;
/** Each node's two LISTEN connections (the log follower, the cluster link), by the names the store gives them. */
const LISTENING = "application_name IN ('portico-follower', 'portico-cluster-link')";
const running: PorticoClient[] = [];

/** A panel logged in through `baseUrl` (nginx unless told), started, with every event recorded. */
async function panel(username: string, baseUrl = cluster.url) {
  await cluster.user(username);
  const c = new PorticoClient({ baseUrl, storage: new MemoryStorage(), pollWait: 5, backoffBaseMs: 100, backoffCapMs: 800, requestTimeoutMs: 5000 });
  running.push(c);
  await c.login(username, PASSWORD, true);
  const events = record(c);
  await startReady(c);
  return { username, c, events };
}
type Panel = Awaited<ReturnType<typeof panel>>;

/** A group chat of these panels, accepted by all. */
async function group(members: Panel[]): Promise<string> {
  const [first, ...rest] = members;
  const requested = rest.map((m) => new Promise<any>((resolve) => m.c.on('chat.request', resolve)));
  const chat = await first!.c.createChat(rest.map((m) => m.username));
  await Promise.all(requested);
  for (const m of rest) await m.c.accept(chat.id);
  return chat.id;
}

const messagesIn = (m: Panel, chatId: string) => m.events.filter((e) => e.type === 'chat.message' && e.message.chatId === chatId).map((e) => e.message.clientId as string);

/** The chat's stored history, oldest first, all pages. */
async function history(reader: Client, chatId: string) {
  const all: any[] = [];
  let before: number | undefined;
  for (;;) {
    const page = await reader.get(`/api/v1/chats/${chatId}/messages?limit=100${before ? `&before=${before}` : ''}`);
    expect(page.status).toBe(200);
    all.unshift(...page.body.messages);
    if (!page.body.before) return all;
    before = page.body.before;
  }
}

describe.runIf(HAVE_CLUSTER_PARTS)('faults in a cluster of 3 nodes behind nginx', () => {
  beforeAll(async () => {
    cluster = await startCluster({ env: { PORTICO_PRESENCE_GRACE_MS: '2000', PORTICO_LOGIN_PER_IP_PER_MINUTE: '10000' } });
  }, 120_000);
  afterAll(async () => {
    for (const c of running.splice(0)) c.stop();
    await cluster?.destroy();
  });
  const stopPanels = async (panels: Panel[]) => {
    for (const m of panels) {
      m.c.stop();
      await m.c.stopped();
    }
  };

  it('a node SIGKILLed under load, 3 times (seeded): acknowledged messages survive, none twice, order kept, the panels carry on through the other nodes', async () => {
    const seed = Number(process.env.CLUSTER_SEED ?? Date.now() % 1_000_000);
    const random = rng(seed);
    const label = `seed ${seed} (CLUSTER_SEED=${seed} to repeat)`;
    console.log(`cluster SIGKILL test: ${label}`);
    try {
      const members = await Promise.all(['k0', 'k1', 'k2', 'k3', 'k4', 'k5'].map((u) => panel(`kill-${u}`)));
      const chat = await group(members);
      const ackedAt = new Map<string, number>();
      for (const m of members) {
        m.c.on('outbox', ({ entries }: { entries: OutboxEntry[] }) => {
          for (const e of entries) if (e.state === 'sent' && !ackedAt.has(e.clientId)) ackedAt.set(e.clientId, Date.now());
        });
      }
      const sentOrder = new Map<string, string[]>();
      const textOf = new Map<string, string>();
      let killing = true;
      const senders = members.map(async (m) => {
        const ids: string[] = [];
        sentOrder.set(m.username, ids);
        for (let i = 1; i <= 15 || killing; i++) {
          const entry = m.c.send(chat, `${m.username}-${i}`);
          ids.push(entry.clientId);
          textOf.set(entry.clientId, entry.text);
          await sleep(60 + random() * 140);
        }
      });
      const ackedBeforeKill = new Set<string>();
      const kills: Array<{ node: number; downMs: number; ackedWhileDown: number }> = [];
      const killer = (async () => {
        for (let k = 0; k < 3; k++) {
          await sleep(400 + random() * 800);
          const node = Math.floor(random() * cluster.nodes.length);
          for (const id of ackedAt.keys()) ackedBeforeKill.add(id);
          const at = Date.now();
          await cluster.nodes[node]!.kill();
          await sleep(600 + random() * 900); // down: the others carry the panels
          const ackedWhileDown = [...ackedAt.values()].filter((t) => t > at).length;
          await cluster.nodes[node]!.start();
          kills.push({ node, downMs: Date.now() - at, ackedWhileDown });
        }
        await sleep(300);
        killing = false;
      })();
      await Promise.all([...senders, killer]);

      const total = [...sentOrder.values()].reduce((n, ids) => n + ids.length, 0);
      await until(() => members.every((m) => m.c.outbox().every((e) => e.state === 'sent')), 20_000, `every outbox sent (${label})`);
      await until(() => members.every((m) => messagesIn(m, chat).length >= total), 20_000, `every member has ${total} messages (${label})`);
      await sleep(500); // nothing more comes
      await stopPanels(members);

      const stored = (await history(await Client.login(cluster.url, members[0]!.username, PASSWORD), chat)).map((m) => m.clientId as string);
      expect(stored.length, label).toBe(total);
      expect(new Set(stored).size, label).toBe(total);
      for (const id of ackedBeforeKill) expect(stored, `${label}: acknowledged ${id} survived`).toContain(id);
      for (const [username, ids] of sentOrder) expect(stored.filter((id) => ids.includes(id)), `${label}: ${username}'s order`).toEqual(ids);
      for (const m of members) expect(messagesIn(m, chat), `${label}: ${m.username}`).toEqual(stored);
      // Panels carried on through the other nodes while one was down.
      for (const k of kills) expect(k.ackedWhileDown, `${label}: sends acknowledged while node ${k.node} was down (${JSON.stringify(kills)})`).toBeGreaterThan(0);
      const stats = await history(await Client.login(cluster.url, members[0]!.username, PASSWORD), chat);
      expect(stats.map((m) => m.text)).toEqual(stored.map((id) => textOf.get(id)));
    } catch (err) {
      console.error(`cluster SIGKILL test failed with ${label}\n${cluster.output()}`);
      throw err;
    }
  }, 120_000);

  it('the nodes\u2019 LISTEN connections cut (pg_terminate_backend) while messages flow: nothing is lost, and every node listens again', async () => {
    const listeners = async () =>
      Number((await cluster.db.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE ${LISTENING} AND datname = current_database()`)).rows[0].n);
    await until(async () => (await listeners()) === 2 * cluster.nodes.length, 10_000, 'every node listening');
    // A sender on node A, readers held on B and C.
    const [a, b, c] = cluster.nodes.map((n) => n.url) as [string, string, string];
    const members = [await panel('cut-ann', a), await panel('cut-ben', b), await panel('cut-cy', c)];
    const chat = await group(members);
    const sent: string[] = [];
    let cuts = 0;
    for (let i = 0; i < 40; i++) {
      if (i === 10 || i === 25) {
        const cut = await cluster.db.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE ${LISTENING} AND datname = current_database()`);
        cuts += cut.rowCount ?? 0;
      }
      sent.push(members[0]!.c.send(chat, `cut ${i}`).clientId);
      await sleep(50);
    }
    expect(cuts).toBeGreaterThanOrEqual(2 * cluster.nodes.length * 2);
    await until(() => members.every((m) => messagesIn(m, chat).length >= sent.length), 15_000, 'every message at every member');
    await sleep(300);
    for (const m of members) expect(messagesIn(m, chat), m.username).toEqual(sent);
    await until(async () => (await listeners()) === 2 * cluster.nodes.length, 10_000, 'every node listening again');
    await stopPanels(members);
  }, 60_000);

  it('PostgreSQL restarted: 503 unavailable meanwhile on every node and through nginx, no node crashes, they reconnect by themselves', async () => {
    const [ann, ben] = [await panel('pg-ann'), await panel('pg-ben')];
    const chat = await group([ann, ben]);
    const raw = await Client.login(cluster.url, 'pg-ann', PASSWORD);
    await cluster.db.stop();
    try {
      for (const url of [...cluster.nodes.map((n) => n.url), cluster.url]) {
        const put = await send(`${url}/api/v1/chats/${chat}/messages/down-${url.slice(-5)}`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${raw.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ text: 'while down' }),
        });
        expect(put.status, url).toBe(503);
        expect(put.body.error.code, url).toBe('unavailable');
        const read = await send(`${url}/api/v1/chats`, { headers: { authorization: `Bearer ${raw.token}` } });
        expect(read.status, url).toBe(503);
      }
      // A panel sends during the outage: its outbox keeps the message and retries.
      const pending = ann.c.send(chat, 'sent during the outage');
      await sleep(1500);
      expect(ann.c.outbox().find((e) => e.clientId === pending.clientId)?.state).not.toBe('sent');
      for (const [i, n] of cluster.nodes.entries()) expect(n.child?.exitCode ?? null, `node ${i} still running`).toBeNull();
      await cluster.db.start();
      // Every node answers again by itself, and the panel's message arrives at the other panel.
      for (const url of cluster.nodes.map((n) => n.url)) {
        await until(async () => (await send(`${url}/api/v1/chats`, { headers: { authorization: `Bearer ${raw.token}` } })).status === 200, 15_000, `${url} answering again`);
      }
      await until(() => messagesIn(ben, chat).includes(pending.clientId), 20_000, 'the outage message at ben');
      expect(ben.events.filter((e) => e.type === 'chat.message' && e.message.clientId === pending.clientId)).toHaveLength(1);
      for (const [i, n] of cluster.nodes.entries()) expect(n.child?.exitCode ?? null, `node ${i} still running`).toBeNull();
    } finally {
      await cluster.db.start().catch(() => {});
    }
    await stopPanels([ann, ben]);
  }, 90_000);
});
