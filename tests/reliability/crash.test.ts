/**
 * Crash: six panel clients (the real API client module, with its persistent outbox) chat in one
 * group while the server, a child process, is killed with SIGKILL three times at random moments
 * and started again on the same data directory. Afterwards: every message stored exactly once;
 * every message acknowledged before a kill survived it; every member got every message exactly
 * once, in the history's order; each sender's messages in the order they were sent; resends
 * after the kills made no duplicates. The seed of the random moments is printed on failure.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryStorage, PorticoClient, type OutboxEntry } from '../../electron/renderer/src/api/index.js';
import { startChildServer, type ChildServer } from '../helpers/child-server.js';
import { ADMIN_PASSWORD, Client, PASSWORD } from '../helpers/server.js';
import { record, rng, sleep, startReady, until, writeResult } from './common.js';

const USERS = 6;
/** Each client sends at least this many, and goes on until the last kill is over. */
const MIN_MESSAGES_PER_USER = 20;
const KILLS = 3;

let server: ChildServer | undefined;
const running: PorticoClient[] = [];
afterAll(async () => {
  for (const c of running.splice(0)) c.stop();
  await server?.destroy();
});

describe('SIGKILL of the server under load', () => {
  it(`${USERS} clients sending and receiving, ${KILLS} kills: acknowledged messages survive, everything delivered exactly once, in order`, async () => {
    const seed = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000);
    const random = rng(seed);
    const label = `seed ${seed} (CRASH_SEED=${seed} to repeat)`;
    server = await startChildServer({ PORTICO_PRESENCE_GRACE_MS: '2000' });
    const s = server;
    try {
      const admin = await Client.login(s.url, 'admin', ADMIN_PASSWORD);
      const names = Array.from({ length: USERS }, (_, i) => `crash${i}`);
      for (const username of names) expect((await admin.post('/api/v1/admin/users', { username, password: PASSWORD })).status).toBe(201);

      // The PUT attempts per client id (resends show as more than one).
      const attempts = new Map<string, number>();
      const counting: typeof fetch = (input, init) => {
        const m = /\/messages\/([^/?]+)$/.exec(String(input));
        if (m && init?.method === 'PUT') attempts.set(m[1]!, (attempts.get(m[1]!) ?? 0) + 1);
        return fetch(input, init);
      };
      const members = await Promise.all(
        names.map(async (username) => {
          const c = new PorticoClient({
            baseUrl: s.url,
            storage: new MemoryStorage(),
            fetch: counting,
            pollWait: 5,
            backoffBaseMs: 100,
            backoffCapMs: 800,
            requestTimeoutMs: 5000,
          });
          running.push(c);
          await c.login(username, PASSWORD, true);
          return { username, c, events: record(c) };
        }),
      );
      for (const m of members) await startReady(m.c);
      const [first, ...rest] = members;
      const requested = rest.map((m) => new Promise<any>((resolve) => m.c.on('chat.request', resolve)));
      const chat = await first!.c.createChat(rest.map((m) => m.username));
      await Promise.all(requested);
      for (const m of rest) await m.c.accept(chat.id);

      // Acknowledged = the outbox saw the server's 2xx ('sent'); remembered with the time.
      const ackedAt = new Map<string, number>();
      for (const m of members) {
        m.c.on('outbox', ({ entries }: { entries: OutboxEntry[] }) => {
          for (const e of entries) if (e.state === 'sent' && !ackedAt.has(e.clientId)) ackedAt.set(e.clientId, Date.now());
        });
      }

      // Load: each client sends a message every 60-200 ms; meanwhile the server is killed 3 times.
      const sentOrder = new Map<string, string[]>(); // username -> client ids in send order
      const textOf = new Map<string, string>();
      const senders = members.map(async (m) => {
        const ids: string[] = [];
        sentOrder.set(m.username, ids);
        for (let i = 1; i <= MIN_MESSAGES_PER_USER || !killed; i++) {
          const entry = m.c.send(chat.id, `${m.username}-${i}`);
          ids.push(entry.clientId);
          textOf.set(entry.clientId, entry.text);
          await sleep(60 + random() * 140);
        }
      });
      let killed = false;
      const kills: Array<{ atMs: number; ackedBefore: number; unacknowledgedAtKill: number; downMs: number }> = [];
      const ackedBeforeKill = new Set<string>();
      const began = Date.now();
      const killer = (async () => {
        for (let k = 0; k < KILLS; k++) {
          await sleep(300 + random() * 900);
          for (const id of ackedAt.keys()) ackedBeforeKill.add(id);
          const unacknowledged = members.reduce((n, m) => n + m.c.outbox().filter((e) => e.state === 'sending').length, 0);
          const at = Date.now();
          await s.kill();
          await sleep(random() * 300);
          await s.start();
          kills.push({ atMs: at - began, ackedBefore: ackedBeforeKill.size, unacknowledgedAtKill: unacknowledged, downMs: Date.now() - at });
        }
        await sleep(300); // some load after the last restart too
        killed = true;
      })();
      await Promise.all([...senders, killer]);

      const total = [...sentOrder.values()].reduce((n, ids) => n + ids.length, 0);
      await until(() => members.every((m) => m.c.outbox().every((e) => e.state === 'sent')), 20_000, `every outbox sent (${label})`);
      const received = (m: (typeof members)[number]) => m.events.filter((e) => e.type === 'chat.message' && e.message.chatId === chat.id);
      await until(() => members.every((m) => received(m).length >= total), 20_000, `every member has ${total} messages (${label})`);
      await sleep(500); // nothing more comes
      for (const m of members) {
        m.c.stop();
        await m.c.stopped();
      }

      // The stored history, oldest first, all pages (read by a member).
      const history: any[] = [];
      let before: number | undefined;
      const reader = await Client.login(s.url, first!.username, PASSWORD);
      for (;;) {
        const page = await reader.get(`/api/v1/chats/${chat.id}/messages?limit=100${before ? `&before=${before}` : ''}`);
        expect(page.status, label).toBe(200);
        history.unshift(...page.body.messages);
        if (!page.body.before) break;
        before = page.body.before;
      }

      const storedIds = history.map((msg) => msg.clientId as string);
      expect(storedIds.length, label).toBe(total);
      expect(new Set(storedIds).size, label).toBe(total); // stored once each
      for (const id of ackedBeforeKill) expect(storedIds, `${label}: acknowledged ${id} survived`).toContain(id);
      for (const msg of history) expect(msg.text, label).toBe(textOf.get(msg.clientId));
      // Each sender's messages in the order sent.
      for (const [username, ids] of sentOrder) expect(storedIds.filter((id) => ids.includes(id)), `${label}: ${username}'s order`).toEqual(ids);
      // Every member: every message exactly once, in the history's order.
      let checked = 0;
      for (const m of members) {
        const got = received(m).map((e) => e.message.clientId as string);
        expect(got, `${label}: ${m.username}`).toEqual(storedIds);
        checked += got.length;
      }
      const resent = [...attempts.values()].filter((n) => n > 1).length;

      writeResult('crash', 'sigkill', {
        seed,
        clients: USERS,
        kills: kills.length,
        killMoments: kills,
        messagesSent: total,
        acknowledgedBeforeALaterKill: ackedBeforeKill.size,
        stored: storedIds.length,
        deliveriesChecked: checked,
        messagesResentAfterAFailedAttempt: resent,
        putAttempts: [...attempts.values()].reduce((a, b) => a + b, 0),
        lost: total - new Set(storedIds).size,
        duplicated: storedIds.length - new Set(storedIds).size,
      });
    } catch (err) {
      console.error(`crash test failed with ${label}\n--- server output ---\n${s.output().slice(-4000)}`);
      throw err;
    }
  }, 90_000);
});
