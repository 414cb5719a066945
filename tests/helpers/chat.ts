/**
 * Chat set-up shared by the integration tests: creating chats and getting one to active.
 */
import { expect } from 'vitest';
import type { Client, TestServer } from './server.js';

/** Creates a chat from `creator` inviting the others; expects 201 and answers the chat. */
export async function createChat(creator: Client, ...invitees: Client[]) {
  const res = await creator.post('/api/v1/chats', { invitees: invitees.map((c) => c.username) });
  expect(res.status).toBe(201);
  return res.body.chat as { id: string; state: string; createdBy: string; members: Array<{ username: string; status: string }> };
}

/**
 * An active 1:1 chat: `a` invites, `b` accepts. Both clients' cursors end up past its setup events
 * (a client that has never polled starts from now).
 */
export async function activeChat(a: Client, b: Client): Promise<string> {
  if (a.cursor === undefined) await a.poll();
  if (b.cursor === undefined) await b.poll();
  const { id } = await createChat(a, b);
  await b.waitFor('chat.request', (e) => e.chat.id === id);
  expect((await b.post(`/api/v1/chats/${id}/accept`)).status).toBe(200);
  await a.waitFor('chat.accepted', (e) => e.chat.id === id);
  await b.waitFor('chat.accepted', (e) => e.chat.id === id);
  return id;
}

/** Expects this status (200 by default) and answers the body. */
export async function ok(p: Promise<{ status: number; body: any }>, status = 200) {
  const res = await p;
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  return res.body;
}

/** A group chat everyone accepted; answers its id. */
export async function groupChat(creator: Client, ...others: Client[]): Promise<string> {
  const chat = await createChat(creator, ...others);
  for (const c of others) await ok(c.post(`/api/v1/chats/${chat.id}/accept`));
  return chat.id;
}

/**
 * Fresh users for each test: `users('alice', 'bob')` makes `<prefix><n>-alice` ("Alice <n>") and
 * `<prefix><n>-bob`, n counting the calls; each has polled once (its cursor starts now).
 */
export function userMaker(server: () => TestServer, prefix: string) {
  let n = 0;
  return async (...names: string[]) => {
    n++;
    const clients: Array<Client & { username: string }> = [];
    for (const name of names) {
      const c = await server().user(`${prefix}${n}-${name}`, `${name[0]!.toUpperCase()}${name.slice(1)} ${n}`);
      await c.poll();
      clients.push(c as Client & { username: string });
    }
    return clients;
  };
}
