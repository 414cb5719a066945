/**
 * Chat set-up shared by the integration tests: creating chats and getting one to active.
 */
import { expect } from 'vitest';
import type { Client } from './server.js';

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
