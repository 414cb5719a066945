/**
 * SQLite implementation of the meetings part of the Store: reads, and the row operations a write
 * uses (StoreTx.meetings). It shares the main store's connection and group commit; the rules of
 * a meeting's life are meetings/'.
 */
import { randomUUID } from 'node:crypto';
import type { DocumentRecord, GuestStatus, MeetingRows, MeetingStore } from './meetings.js';
import { toMeetingDocument, toGuest, toMeeting, toMessage, type Row } from './rows.js';
import type { Engine, Synchronous } from './sqlite-engine.js';

const MEETING = `SELECT m.*, u.username AS host_username, u.display_name AS host_display_name FROM meetings m JOIN users u ON u.id = m.host_id`;

export class SqliteMeetingStore implements MeetingStore, Synchronous<MeetingRows> {
  private readonly q;

  constructor(private readonly e: Pick<Engine, 'db' | 'read'>) {
    const p = (sql: string) => e.db.prepare(sql);
    this.q = {
      byId: p(`${MEETING} WHERE m.id = ?`),
      liveByNumber: p(`${MEETING} WHERE m.number = ? AND m.ended_at IS NULL`),
      liveOfHost: p(`${MEETING} WHERE m.host_id = ? AND m.ended_at IS NULL ORDER BY m.created_at DESC`),
      numberTaken: p(
        'SELECT 1 FROM meetings WHERE number = @n AND ended_at IS NULL UNION ALL SELECT 1 FROM meeting_numbers WHERE number = @n LIMIT 1',
      ).pluck(),
      liveOfChat: p('SELECT 1 FROM meetings WHERE chat_id = ? AND ended_at IS NULL LIMIT 1').pluck(),
      liveByChat: p(`${MEETING} WHERE m.chat_id = ? AND m.ended_at IS NULL`),
      fixedNumber: p('SELECT number FROM meeting_numbers WHERE user_id = ?').pluck(),
      setFixedNumber: p('INSERT INTO meeting_numbers (user_id, number) VALUES (?, ?)'),
      insert: p('INSERT INTO meetings (id, number, title, host_id, chat_id, fixed, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      end: p('UPDATE meetings SET ended_at = ? WHERE id = ? AND ended_at IS NULL'),
      setPresentation: p('UPDATE meetings SET presentation = ? WHERE id = ?'),
      insertGuest: p('INSERT INTO meeting_guests (meeting_id, name, address, token_hash, status, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
      guest: p('SELECT * FROM meeting_guests WHERE id = ?'),
      guestByToken: p('SELECT * FROM meeting_guests WHERE token_hash = ?'),
      guests: p('SELECT * FROM meeting_guests WHERE meeting_id = ? AND status IN (SELECT value FROM json_each(?)) ORDER BY id'),
      setGuestStatus: p('UPDATE meeting_guests SET status = ? WHERE id = ?'),
      setPresenter: p('UPDATE meeting_guests SET presenter = ? WHERE id = ?'),
      guestMessage: p(
        'SELECT m.* FROM meeting_guest_messages g JOIN messages m ON m.id = g.message_id WHERE g.guest_id = ? AND g.client_id = ?',
      ),
      rememberGuestMessage: p('INSERT INTO meeting_guest_messages (guest_id, client_id, message_id) VALUES (?, ?, ?)'),
      insertDocument: p('INSERT INTO meeting_documents (id, meeting_id, name, pages, created_at) VALUES (?, ?, ?, ?, ?)'),
      document: p('SELECT * FROM meeting_documents WHERE id = ?'),
      documents: p('SELECT * FROM meeting_documents WHERE meeting_id = ? ORDER BY created_at, id'),
    };
  }

  // ---------------------------------------------------------------- row operations (inside a write)
  get(meetingId: string) {
    const r = this.q.byId.get(meetingId) as Row | undefined;
    return r && toMeeting(r);
  }

  liveByNumber(number: string) {
    const r = this.q.liveByNumber.get(number) as Row | undefined;
    return r && toMeeting(r);
  }

  numberTaken(number: string) {
    return this.q.numberTaken.get({ n: number }) !== undefined;
  }

  liveMeetingOfChat(chatId: string) {
    return this.q.liveOfChat.get(chatId) !== undefined;
  }

  liveMeetingByChat(chatId: string) {
    const r = this.q.liveByChat.get(chatId) as Row | undefined;
    return r && toMeeting(r);
  }

  fixedNumberOf(userId: number) {
    return this.q.fixedNumber.get(userId) as string | undefined;
  }

  setFixedNumber(userId: number, number: string) {
    this.q.setFixedNumber.run(userId, number);
  }

  insert(input: { number: string; title: string; hostId: number; chatId: string; fixed: boolean; createdAt: number }) {
    const id = randomUUID();
    this.q.insert.run(id, input.number, input.title, input.hostId, input.chatId, input.fixed ? 1 : 0, input.createdAt);
    return id;
  }

  end(meetingId: string, at: number) {
    this.q.end.run(at, meetingId);
  }

  setPresentation(meetingId: string, presentation: { documentId: string; page: number }) {
    this.q.setPresentation.run(JSON.stringify(presentation), meetingId);
  }

  insertGuest(input: { meetingId: string; name: string; address: string; tokenHash: Buffer; createdAt: number }) {
    const r = this.q.insertGuest.run(input.meetingId, input.name, input.address, input.tokenHash, 'knocking', input.createdAt);
    return Number(r.lastInsertRowid);
  }

  guest(guestId: number) {
    const r = this.q.guest.get(guestId) as Row | undefined;
    return r && toGuest(r);
  }

  guests(meetingId: string, statuses: GuestStatus[]) {
    return (this.q.guests.all(meetingId, JSON.stringify(statuses)) as Row[]).map(toGuest);
  }

  setGuestStatus(guestId: number, status: GuestStatus) {
    this.q.setGuestStatus.run(status, guestId);
  }

  setPresenter(guestId: number, presenter: boolean) {
    this.q.setPresenter.run(presenter ? 1 : 0, guestId);
  }

  guestMessage(guestId: number, clientId: string) {
    const r = this.q.guestMessage.get(guestId, clientId) as Row | undefined;
    return r && toMessage(r);
  }

  rememberGuestMessage(guestId: number, clientId: string, messageId: number) {
    this.q.rememberGuestMessage.run(guestId, clientId, messageId);
  }

  insertDocument(input: DocumentRecord) {
    this.q.insertDocument.run(input.id, input.meetingId, input.name, JSON.stringify(input.pages), input.createdAt);
  }

  document(documentId: string) {
    const r = this.q.document.get(documentId) as Row | undefined;
    return r && toMeetingDocument(r);
  }

  // ---------------------------------------------------------------- reads
  byId(meetingId: string) {
    return this.e.read(() => this.get(meetingId));
  }

  liveOfHost(hostId: number) {
    return this.e.read(() => (this.q.liveOfHost.all(hostId) as Row[]).map(toMeeting));
  }

  guestByTokenHash(tokenHash: Buffer) {
    return this.e.read(() => {
      const r = this.q.guestByToken.get(tokenHash) as Row | undefined;
      if (!r) return undefined;
      const guest = toGuest(r);
      const meeting = this.get(guest.meetingId);
      return meeting && { guest, meeting };
    });
  }

  guestById(guestId: number) {
    return this.e.read(() => this.guest(guestId));
  }

  documents(meetingId: string) {
    return this.e.read(() => (this.q.documents.all(meetingId) as Row[]).map(toMeetingDocument));
  }
}
