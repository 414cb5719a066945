/**
 * The panel's API client as a meeting guest (issue 19): knockAs() makes the knock's token the
 * session, kept only in the storage given (the guest page gives sessionStorage) with the knock's
 * cursor, so the admission is not missed; restoreGuest() picks it up again without asking the
 * server; the host's calls (createMeeting, admit, present, end) through the same module.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MemoryStorage, PorticoClient } from '../../electron/renderer/src/api/index.js';
import { tinyPdf } from '../helpers/pdf.js';
import { PASSWORD, eventually, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
const clients: PorticoClient[] = [];

beforeAll(async () => {
  server = await startTestServer({ knocksPerMinute: 1000 });
  await server.user('gc-host', 'Gail Host');
});
afterAll(async () => {
  for (const c of clients) {
    c.stop();
    await c.stopped();
  }
  await server?.destroy();
});

function client(storage = new MemoryStorage()) {
  const c = new PorticoClient({ baseUrl: server.url, storage, storagePrefix: 'portico.guest', pollWait: 5 });
  clients.push(c);
  return c;
}

it('a guest knocks, is admitted, chats and follows the page; the end of the meeting reaches it', async () => {
  const host = client();
  await host.login('gc-host', PASSWORD);
  const meeting = await host.createMeeting('Client test');
  expect(meeting.joinUrl).toBe(`/join/${meeting.number}`);
  const knocks: any[] = [];
  host.on('meeting.knock', (e) => knocks.push(e));
  host.start();

  const storage = new MemoryStorage();
  const guest = client(storage);
  const events: any[] = [];
  guest.on('*', (e) => events.push(e));
  const user = await guest.knockAs(meeting.number, 'Gus');
  expect(user.username).toMatch(/^guest-\d+$/);
  expect(guest.loggedIn).toBe(true);
  // Kept in the storage given, with the knock's cursor.
  expect(JSON.parse(storage.getItem('portico.guest.session')!).token).toEqual(expect.any(String));
  expect(storage.getItem(`portico.guest.cursor.${user.username}`)).toMatch(/^\d+$/);
  guest.start();

  await eventually(() => knocks.length === 1, 5000, 'the knock');
  expect(knocks[0].guest.name).toBe('Gus');
  await host.admitGuest(meeting.id, knocks[0].guest.id);
  await eventually(() => events.some((e) => e.type === 'meeting.admitted'), 5000, 'meeting.admitted');

  await guest.putMessage(meeting.chatId, 'gc-1', 'hello host');
  expect((await host.history(meeting.chatId)).messages.map((m) => m.text)).toContain('hello host');

  const doc = await host.uploadMeetingDocument(meeting.id, new Blob([new Uint8Array(tinyPdf(2))], { type: 'application/pdf' }), 'two.pdf');
  expect(doc.name).toBe('two.pdf');
  expect(doc.pages).toHaveLength(2);
  expect((await host.meetingDocuments(meeting.id)).map((d) => d.id)).toEqual([doc.id]);
  await host.present(meeting.id, doc.id, 2);
  await eventually(() => events.find((e) => e.type === 'meeting.page')?.page === 2, 5000, 'meeting.page');

  // A second client on the same storage (a reload of the tab) resumes without asking the server.
  const again = client(storage);
  expect(again.restoreGuest()?.username).toBe(user.username);
  expect(again.loggedIn).toBe(true);

  await host.endMeeting(meeting.id);
  await eventually(() => events.some((e) => e.type === 'meeting.ended'), 5000, 'meeting.ended');
  expect((await host.meetings()).map((m) => m.id)).not.toContain(meeting.id);
});

it('a knock on a number nobody uses is a 404 and leaves no session', async () => {
  const storage = new MemoryStorage();
  const guest = client(storage);
  await expect(guest.knockAs('12345678901', 'Nobody')).rejects.toMatchObject({ status: 404 });
  expect(guest.loggedIn).toBe(false);
  expect(storage.getItem('portico.guest.session')).toBeNull();
});
