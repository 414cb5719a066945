/**
 * SQLite implementation of the calls part of the Store: reads, and the row operations a write
 * uses (StoreTx.calls). It shares the main store's connection and group commit; the rules of a
 * call's life are calls/'.
 */
import { randomUUID } from 'node:crypto';
import type { CallEndReason, CallMemberState } from '../../../shared/index.js';
import type { CallRecord, CallRows, CallStore, CallTransferRecord } from './calls.js';
import { toCallRecord, type Row } from './rows.js';
import type { Engine, Synchronous } from './sqlite-engine.js';

export class SqliteCallStore implements CallStore, Synchronous<CallRows> {
  private readonly q;

  constructor(private readonly e: Pick<Engine, 'db' | 'read'>) {
    const p = (sql: string) => e.db.prepare(sql); // its own statements: their modes are set once
    this.q = {
      call: p('SELECT * FROM calls WHERE id = ?'),
      // Users, and meeting guests (negative ids, as their sessions' stand-in users: auth/sessions.ts).
      members: p(
        `SELECT m.user_id, m.state, m.position, u.username, u.display_name, (SELECT r.username FROM users r WHERE r.id = m.rung_by) AS rung_by
         FROM call_members m JOIN users u ON u.id = m.user_id
         WHERE m.call_id = @id
         UNION ALL
         SELECT -g.guest_id, g.state, g.position, 'guest-' || g.guest_id, mg.name || ' (guest)', NULL FROM call_guests g
         JOIN meeting_guests mg ON mg.id = g.guest_id WHERE g.call_id = @id
         ORDER BY position`,
      ),
      addGuest: p('INSERT INTO call_guests (call_id, guest_id, state, position) VALUES (?, ?, ?, ?)'),
      setGuest: p('UPDATE call_guests SET state = ? WHERE call_id = ? AND guest_id = ?'),
      guestOtherLiveCall: p(
        `SELECT c.id FROM call_guests m JOIN calls c ON c.id = m.call_id
         WHERE m.guest_id = ? AND m.state = 'joined' AND c.state != 'ended' AND c.id != ? LIMIT 1`,
      ).pluck(),
      guestEngaged: p(
        `SELECT c.id FROM call_guests m JOIN calls c ON c.id = m.call_id
         WHERE m.guest_id = ? AND m.state IN ('joined', 'ringing') AND c.state != 'ended' LIMIT 1`,
      ).pluck(),
      insert: p('INSERT INTO calls (id, chat_id, created_by, created_at, video, state) VALUES (?, ?, ?, ?, ?, ?)'),
      addMember: p('INSERT INTO call_members (call_id, user_id, state, position) VALUES (?, ?, ?, ?)'),
      setMember: p('UPDATE call_members SET state = ? WHERE call_id = ? AND user_id = ?'),
      answered: p("UPDATE calls SET state = 'active', answered_at = ? WHERE id = ?"),
      ended: p("UPDATE calls SET state = 'ended', ended_at = ?, end_reason = ? WHERE id = ?"),
      otherLiveCall: p(
        `SELECT c.id FROM call_members m JOIN calls c ON c.id = m.call_id
         WHERE m.user_id = ? AND m.state = 'joined' AND c.state != 'ended' AND c.id != ? LIMIT 1`,
      ).pluck(),
      engaged: p(
        `SELECT c.id FROM call_members m JOIN calls c ON c.id = m.call_id
         WHERE m.user_id = ? AND m.state IN ('joined', 'ringing') AND c.state != 'ended' LIMIT 1`,
      ).pluck(),
      due: p(
        `SELECT c.id AS callId, m.user_id AS userId FROM calls c JOIN call_members m ON m.call_id = c.id
         WHERE c.state != 'ended' AND COALESCE(m.rung_at, c.transfer_at, c.created_at) <= @t AND m.state = 'ringing'
         UNION ALL
         SELECT c.id, -g.guest_id FROM calls c JOIN call_guests g ON g.call_id = c.id
         WHERE c.state != 'ended' AND c.created_at <= @t AND g.state = 'ringing'`,
      ),
      isMember: p('SELECT 1 FROM call_members WHERE call_id = ? AND user_id = ?').pluck(),
      ring: p("UPDATE call_members SET state = 'ringing', rung_at = ?, rung_by = ? WHERE call_id = ? AND user_id = ?"),
      joined: p(
        "SELECT m.call_id AS callId, m.user_id AS userId FROM calls c JOIN call_members m ON m.call_id = c.id WHERE c.state != 'ended' AND m.state = 'joined'",
      ),
      nextPosition: p(
        `SELECT 1 + max(position) FROM (SELECT position FROM call_members WHERE call_id = @id UNION ALL SELECT position FROM call_guests WHERE call_id = @id)`,
      ).pluck(),
      setHold: p('UPDATE calls SET held_by = ? WHERE id = ?'),
      setTransfer: p('UPDATE calls SET transfer_from = ?, transfer_to = ?, transfer_reason = ?, transfer_at = ?, transfer_warm = ? WHERE id = ?'),
      liveInChat: p("SELECT id FROM calls WHERE chat_id = ? AND state != 'ended' ORDER BY created_at DESC LIMIT 1").pluck(),
      heldInChat: p("SELECT 1 FROM calls WHERE chat_id = ? AND state != 'ended' AND held_by IS NOT NULL LIMIT 1").pluck(),
      liveInChats: p("SELECT id FROM calls WHERE state != 'ended' AND chat_id IN (SELECT value FROM json_each(?))").pluck(),
      usersOnCall: p("SELECT DISTINCT m.user_id FROM call_members m JOIN calls c ON c.id = m.call_id WHERE c.state != 'ended' AND m.state = 'joined'").pluck(),
    };
  }

  // ---------------------------------------------------------------- row operations (inside a write)
  get(callId: string): CallRecord | undefined {
    const r = this.q.call.get(callId) as Row | undefined;
    return r && toCallRecord(r, this.q.members.all({ id: callId }) as Row[]);
  }

  engaged(userId: number) {
    return this.engagedIn(userId) !== undefined;
  }

  engagedIn(userId: number) {
    return (userId < 0 ? this.q.guestEngaged.get(-userId) : this.q.engaged.get(userId)) as string | undefined;
  }

  liveCallOf(userId: number, except = '') {
    return (userId < 0 ? this.q.guestOtherLiveCall.get(-userId, except) : this.q.otherLiveCall.get(userId, except)) as string | undefined;
  }

  insert(input: { chatId: string; createdBy: string; createdAt: number; video: boolean; members: Array<[number, CallMemberState]> }) {
    const id = randomUUID();
    this.q.insert.run(id, input.chatId, input.createdBy, input.createdAt, input.video ? 1 : 0, 'ringing');
    input.members.forEach(([userId, state], i) => (userId < 0 ? this.q.addGuest.run(id, -userId, state, i) : this.q.addMember.run(id, userId, state, i)));
    return id;
  }

  setMember(callId: string, userId: number, state: CallMemberState) {
    if (userId < 0) this.q.setGuest.run(state, callId, -userId);
    else this.q.setMember.run(state, callId, userId);
  }

  answered(callId: string, at: number) {
    this.q.answered.run(at, callId);
  }

  ended(callId: string, at: number, reason: CallEndReason) {
    this.q.ended.run(at, reason, callId);
  }

  ringingSince(startedBefore: number) {
    return this.q.due.all({ t: startedBefore }) as Array<{ callId: string; userId: number }>;
  }

  ring(callId: string, userId: number, at: number, byId: number) {
    if (this.q.isMember.get(callId, userId) === undefined) this.addMember(callId, userId, 'ringing');
    this.q.ring.run(at, byId, callId, userId);
  }

  addMember(callId: string, userId: number, state: CallMemberState) {
    const position = (this.q.nextPosition.get({ id: callId }) as number | null) ?? 0;
    if (userId < 0) this.q.addGuest.run(callId, -userId, state, position);
    else this.q.addMember.run(callId, userId, state, position);
  }

  setHold(callId: string, userId: number | null) {
    this.q.setHold.run(userId, callId);
  }

  setTransfer(callId: string, t: CallTransferRecord | null) {
    this.q.setTransfer.run(t?.fromId ?? null, t?.toId ?? null, t?.reason ?? null, t?.at ?? null, t?.warm ? 1 : 0, callId);
  }

  liveInChat(chatId: string) {
    return this.q.liveInChat.get(chatId) as string | undefined;
  }

  heldInChat(chatId: string) {
    return this.q.heldInChat.get(chatId) !== undefined;
  }

  // ---------------------------------------------------------------- reads
  liveInChats(chatIds: string[]) {
    if (chatIds.length === 0) return Promise.resolve([]);
    return this.e.read(() => (this.q.liveInChats.all(JSON.stringify(chatIds)) as string[]).map((id) => this.get(id)!.call));
  }

  byId(callId: string) {
    return this.e.read(() => this.get(callId));
  }

  ringsDue(startedBefore: number) {
    // Asked every second: a plain read, so a write (transaction) happens only when a ring is due.
    return this.e.read(() => this.q.due.get({ t: startedBefore }) !== undefined);
  }

  joinedMembers() {
    return this.e.read(() => this.q.joined.all() as Array<{ callId: string; userId: number }>);
  }

  usersOnCall() {
    return this.e.read(() => this.q.usersOnCall.all() as number[]);
  }
}
