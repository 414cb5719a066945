/**
 * The rules of meetings, written against the store's write transaction (StoreTx): numbers,
 * knocks, admission, the end of a meeting, guests' messages, the page shown. Each runs inside one
 * write, so a check and the change it allows commit together.
 *
 * Where events go: a knock to the host's own topic; admitted/rejected to the guest's own topic
 * (`g:<id>`); everything the meeting shares (joined, page, ended) to the meeting chat's topic,
 * which the host (a member) and the admitted guests listen to.
 */
import { randomInt } from 'node:crypto';
import { topicOf, type Meeting, type MeetingDocument, type Message } from '../../../shared/index.js';
import { guestUserId } from '../auth/sessions.js';
import { actOnCall, type CallChange } from '../calls/transitions.js';
import { createChat } from '../chat/rules.js';
import { AppError, conflict, forbidden, notFound } from '../errors.js';
import type { DocumentRecord, GuestRecord, MeetingRecord } from '../store/meetings.js';
import type { GuestSession, SessionRecord, StoreTx } from '../store/store.js';

/** Prefixes of real mobile numbers: a meeting number never starts with one. */
const FORBIDDEN_PREFIXES = ['090', '080', '070', '050'];

/** 11 digits, every one drawn with crypto randomness, never a mobile prefix. */
export function randomNumber(): string {
  for (;;) {
    let n = '';
    for (let i = 0; i < 11; i++) n += String(randomInt(10));
    if (!FORBIDDEN_PREFIXES.includes(n.slice(0, 3))) return n;
  }
}

/** A number no live meeting and no host's fixed number uses (10^11 of them: a repeat is rare). */
async function freshNumber(tx: StoreTx): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const n = randomNumber();
    if (!(await tx.meetings.numberTaken(n))) return n;
  }
  throw new AppError(503, 'internal_error', 'no free meeting number was found; try again');
}

export const joinUrl = (number: string) => `/join/${number}`;

/** The protocol view of a meeting. */
export function toMeeting(m: MeetingRecord): Meeting {
  return {
    id: m.id,
    number: m.number,
    title: m.title,
    joinUrl: joinUrl(m.number),
    host: { username: m.hostUsername, displayName: m.hostDisplayName },
    chatId: m.chatId,
    fixed: m.fixed,
    createdAt: new Date(m.createdAt).toISOString(),
  };
}

/**
 * A new meeting with its chat (the host its only member). `fixed`: on the host's own number,
 * kept from one meeting to the next; a live meeting already on it ends (the number leads to the
 * host's newest meeting).
 */
export async function createMeeting(
  tx: StoreTx,
  hostId: number,
  input: { title?: string; fixed?: boolean },
): Promise<{ meeting: MeetingRecord; ended?: string; changes: CallChange[] }> {
  let number: string;
  let ended: string | undefined;
  let changes: CallChange[] = [];
  if (input.fixed) {
    const own = await tx.meetings.fixedNumberOf(hostId);
    if (own) {
      number = own;
      const previous = await tx.meetings.liveByNumber(own);
      if (previous) {
        changes = await endMeeting(tx, previous);
        ended = previous.id;
      }
    } else {
      number = await freshNumber(tx);
      await tx.meetings.setFixedNumber(hostId, number);
    }
  } else {
    number = await freshNumber(tx);
  }
  const chat = await createChat(tx, hostId, []);
  const id = await tx.meetings.insert({ number, title: input.title ?? '', hostId, chatId: chat.id, fixed: input.fixed ?? false, createdAt: Date.now() });
  return { meeting: (await tx.meetings.get(id))!, ended, changes };
}

/** The meeting, if `hostId` hosts it (others, guests included, are told it does not exist). */
export async function hostedMeeting(tx: StoreTx, hostId: number, meetingId: string): Promise<MeetingRecord> {
  const meeting = await tx.meetings.get(meetingId);
  if (!meeting || meeting.hostId !== hostId) throw notFound('meeting');
  return meeting;
}

async function liveHostedMeeting(tx: StoreTx, hostId: number, meetingId: string): Promise<MeetingRecord> {
  const meeting = await hostedMeeting(tx, hostId, meetingId);
  if (meeting.endedAt !== null) throw conflict('conflict', 'this meeting has ended');
  return meeting;
}

/** A knock on a live meeting's number: a knocking guest, the host told. Undefined for an unknown or ended number. */
export async function knock(tx: StoreTx, input: { number: string; name: string; address: string; tokenHash: Buffer }): Promise<GuestRecord | undefined> {
  const meeting = await tx.meetings.liveByNumber(input.number);
  if (!meeting) return undefined;
  const now = Date.now();
  const id = await tx.meetings.insertGuest({ meetingId: meeting.id, name: input.name, address: input.address, tokenHash: input.tokenHash, createdAt: now });
  await tx.append(topicOf.user(meeting.hostId), { type: 'meeting.knock', meetingId: meeting.id, guest: { id, name: input.name, address: input.address } }, now);
  return (await tx.meetings.guest(id))!;
}

async function guestOf(tx: StoreTx, meeting: MeetingRecord, guestId: number): Promise<GuestRecord> {
  const guest = await tx.meetings.guest(guestId);
  if (!guest || guest.meetingId !== meeting.id) throw notFound('guest');
  return guest;
}

/** The protocol view of a stored document (fresh signed page links: documents.ts). */
export type DocumentView = (doc: DocumentRecord) => MeetingDocument;

/**
 * Lets a knocking guest in: it learns who is there and the page shown now; the others learn it
 * joined. Admitting twice is harmless.
 */
export async function admitGuest(tx: StoreTx, hostId: number, meetingId: string, guestId: number, view: DocumentView): Promise<GuestRecord> {
  const meeting = await liveHostedMeeting(tx, hostId, meetingId);
  const guest = await guestOf(tx, meeting, guestId);
  if (guest.status === 'admitted') return guest;
  if (guest.status !== 'knocking') throw conflict('conflict', `this guest is ${guest.status === 'rejected' ? 'turned away' : 'gone'}`);
  await tx.meetings.setGuestStatus(guest.id, 'admitted');
  const now = Date.now();
  const guests = (await tx.meetings.guests(meeting.id, ['admitted'])).map((g) => ({ id: g.id, name: g.name }));
  const shown = meeting.presentation && await tx.meetings.document(meeting.presentation.documentId);
  await tx.append(
    topicOf.guest(guest.id),
    {
      type: 'meeting.admitted',
      meeting: { id: meeting.id, number: meeting.number, title: meeting.title, chatId: meeting.chatId },
      host: { username: meeting.hostUsername, displayName: meeting.hostDisplayName },
      guests,
      ...(shown ? { presentation: { document: view(shown), page: meeting.presentation!.page } } : {}),
    },
    now,
  );
  await tx.append(topicOf.chat(meeting.chatId), { type: 'meeting.joined', meetingId: meeting.id, guest: { id: guest.id, name: guest.name } }, now);
  return (await tx.meetings.guest(guest.id))!;
}

/** Turns a knocking (or admitted) guest away: told on its own topic; its token ends. */
export async function rejectGuest(tx: StoreTx, hostId: number, meetingId: string, guestId: number): Promise<{ guest: GuestRecord; changes: CallChange[] }> {
  const meeting = await liveHostedMeeting(tx, hostId, meetingId);
  const guest = await guestOf(tx, meeting, guestId);
  if (guest.status === 'rejected') return { guest, changes: [] };
  if (guest.status !== 'knocking' && guest.status !== 'admitted') throw conflict('conflict', 'this guest is gone');
  const changes = await hangUp(tx, guest.id);
  await tx.meetings.setGuestStatus(guest.id, 'rejected');
  await tx.append(topicOf.guest(guest.id), { type: 'meeting.rejected', meetingId: meeting.id });
  return { guest: (await tx.meetings.guest(guest.id))!, changes };
}

/**
 * Ends a meeting: every guest's token ends; those taking part and those still knocking are told;
 * guests on the meeting's call hang up. Answers the call changes (CallService.applied: presence).
 */
export async function endMeeting(tx: StoreTx, meeting: MeetingRecord): Promise<CallChange[]> {
  if (meeting.endedAt !== null) return [];
  const now = Date.now();
  const changes: CallChange[] = [];
  for (const guest of await tx.meetings.guests(meeting.id, ['knocking', 'admitted'])) {
    changes.push(...await hangUp(tx, guest.id));
    await tx.meetings.setGuestStatus(guest.id, 'ended');
    if (guest.status === 'knocking') await tx.append(topicOf.guest(guest.id), { type: 'meeting.ended', meetingId: meeting.id }, now);
  }
  await tx.meetings.end(meeting.id, now);
  await tx.append(topicOf.chat(meeting.chatId), { type: 'meeting.ended', meetingId: meeting.id }, now);
  return changes;
}

/** A guest leaving for good leaves (or declines) the meeting's call it is in or rung for. */
async function hangUp(tx: StoreTx, guestId: number): Promise<CallChange[]> {
  const member = guestUserId(guestId);
  const callId = await tx.calls.engagedIn(member);
  return callId ? [await actOnCall(tx, callId, member, 'hangup')] : [];
}

/** The guest, if it takes part now (admitted, meeting live), in the meeting of this chat. */
async function takingPart(tx: StoreTx, session: GuestSession, chatId: string): Promise<GuestRecord> {
  if (chatId !== session.chatId) throw forbidden('a meeting guest may only use its meeting');
  const guest = await tx.meetings.guest(session.id);
  const meeting = await tx.meetings.get(session.meetingId);
  if (!guest || !meeting || meeting.endedAt !== null || guest.status !== 'admitted') throw forbidden('you are not taking part in this meeting');
  return guest;
}

/**
 * A guest's message in its meeting's chat, stored once per (guest, clientId) like a member's;
 * its sender shows as "<name> (guest)".
 */
export async function putGuestMessage(
  tx: StoreTx,
  session: SessionRecord & { guest: GuestSession },
  input: { chatId: string; clientId: string; text: string },
): Promise<{ message: Message; created: boolean }> {
  const guest = await takingPart(tx, session.guest, input.chatId);
  const existing = await tx.meetings.guestMessage(guest.id, input.clientId);
  if (existing) {
    if (existing.text !== input.text) throw conflict('idempotency_conflict', 'this client id was already used for a different message');
    return { message: existing, created: false };
  }
  const now = Date.now();
  const message = await tx.insertMessage({ chatId: input.chatId, fromUserId: null, fromUsername: `${guest.name} (guest)`, clientId: input.clientId, text: input.text, sentAt: now });
  await tx.meetings.rememberGuestMessage(guest.id, input.clientId, message.id);
  await tx.append(topicOf.chat(input.chatId), { type: 'chat.message', message }, now, session.tokenId);
  return { message, created: true };
}

/** Checks a guest may read its meeting chat's history (inside a write for a consistent look). */
export async function guestMayRead(tx: StoreTx, session: GuestSession, chatId: string) {
  await takingPart(tx, session, chatId);
}

/**
 * The live meeting, if the session may present in it: its host, or an admitted guest the host
 * allowed to. Anyone else is told it does not exist (guests of other meetings included).
 */
export async function presenterMeeting(tx: StoreTx, session: SessionRecord, meetingId: string): Promise<MeetingRecord> {
  return mayPresent(session, await tx.meetings.get(meetingId), session.guest && await tx.meetings.guest(session.guest.id));
}

/** The same check over records read outside a write (the pointer, the upload's early look). */
export function mayPresent(session: SessionRecord, meeting: MeetingRecord | undefined, guest: GuestRecord | undefined): MeetingRecord {
  const live = mayTakePart(session, meeting);
  if (session.guest && !guest?.presenter) throw forbidden('the host has not allowed you to present');
  return live;
}

/** The live meeting, if the session takes part in it (its host or an admitted guest). */
export function mayTakePart(session: SessionRecord, meeting: MeetingRecord | undefined): MeetingRecord {
  const ok = meeting && (session.guest ? session.guest.meetingId === meeting.id && session.guest.admitted : meeting.hostId === session.user.id);
  if (!ok) throw notFound('meeting');
  if (meeting.endedAt !== null) throw conflict('conflict', 'this meeting has ended');
  return meeting;
}

/** Allows (or stops) an admitted guest to show documents. */
export async function setPresenter(tx: StoreTx, hostId: number, meetingId: string, guestId: number, allowed: boolean): Promise<GuestRecord> {
  const meeting = await liveHostedMeeting(tx, hostId, meetingId);
  const guest = await guestOf(tx, meeting, guestId);
  if (guest.status !== 'admitted') throw conflict('conflict', 'only a guest taking part can present');
  await tx.meetings.setPresenter(guest.id, allowed);
  return (await tx.meetings.guest(guest.id))!;
}

/** Shows a page of one of the meeting's documents to everyone (meeting.page). */
export async function present(
  tx: StoreTx,
  session: SessionRecord,
  meetingId: string,
  input: { documentId: string; page: number },
  view: DocumentView,
) {
  const meeting = await presenterMeeting(tx, session, meetingId);
  const doc = await tx.meetings.document(input.documentId);
  if (!doc || doc.meetingId !== meeting.id) throw notFound('document');
  if (input.page > doc.pages.length) throw new AppError(400, 'invalid_request', `page: this document has ${doc.pages.length} page(s)`);
  await tx.meetings.setPresentation(meeting.id, input);
  await tx.append(topicOf.chat(meeting.chatId), { type: 'meeting.page', meetingId: meeting.id, document: view(doc), page: input.page });
  return input;
}
