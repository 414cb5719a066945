/**
 * SQLite implementation of the calls part of the Store; shares the main store's connection, group
 * commit and event log, so each change of a call and the events it causes commit together.
 * Call events go to each member's own user topic (they are per person, like chat requests).
 */
import { randomUUID } from 'node:crypto';
import { topicOf, type Call, type CallEndReason, type CallMemberState, type CallSignal } from '../../../shared/index.js';
import { endReasonAfter, callRecord, type CallAction, type Trigger } from '../calls/rules.js';
import { AppError, conflict, notFound } from '../errors.js';
import type { CallChange, CallRecord, CallStore } from './calls.js';
import { iso, toMessage, type Engine, type Row } from './sqlite-engine.js';

export class SqliteCallStore implements CallStore {
  private readonly q;

  constructor(private readonly e: Engine) {
    const p = (sql: string) => e.db.prepare(sql); // its own statements: their modes are set once
    this.q = {
      call: p('SELECT * FROM calls WHERE id = ?'),
      members: p(
        `SELECT m.user_id, m.state, u.username, u.display_name FROM call_members m JOIN users u ON u.id = m.user_id
         WHERE m.call_id = ? ORDER BY m.position`,
      ),
      setMember: p('UPDATE call_members SET state = ? WHERE call_id = ? AND user_id = ?'),
      /** The live call (other than this one) a user is joined in, if any. */
      otherLiveCall: p(
        `SELECT c.id FROM call_members m JOIN calls c ON c.id = m.call_id
         WHERE m.user_id = ? AND m.state = 'joined' AND c.state != 'ended' AND c.id != ? LIMIT 1`,
      ).pluck(),
      /** Busy for a new call: joined in, or being rung for, a live call. */
      engaged: p(
        `SELECT 1 FROM call_members m JOIN calls c ON c.id = m.call_id
         WHERE m.user_id = ? AND m.state IN ('joined', 'ringing') AND c.state != 'ended' LIMIT 1`,
      ).pluck(),
      chatStatus: p('SELECT status FROM chat_members WHERE chat_id = ? AND user_id = ?').pluck(),
      chatAccepted: p("SELECT count(*) FROM chat_members WHERE chat_id = ? AND status = 'accepted'").pluck(),
    };
  }

  private record(callId: string): CallRecord | undefined {
    const r = this.q.call.get(callId) as Row | undefined;
    if (!r) return undefined;
    const rows = this.q.members.all(callId) as Row[];
    const call: Call = {
      id: r.id,
      chatId: r.chat_id,
      createdBy: r.created_by,
      createdAt: iso(r.created_at),
      video: r.video === 1,
      state: r.state,
      members: rows.map((m) => ({ username: m.username, displayName: m.display_name, state: m.state })),
    };
    if (r.answered_at !== null) call.answeredAt = iso(r.answered_at);
    if (r.ended_at !== null) call.endedAt = iso(r.ended_at);
    if (r.end_reason !== null) call.endReason = r.end_reason;
    return { call, members: new Map(rows.map((m) => [m.user_id as number, m.state as CallMemberState])) };
  }

  /** For each user: joined in any live call (what presence shows as busy). */
  private onCall(members: Iterable<number>): Map<number, boolean> {
    return new Map([...members].map((id) => [id, this.q.otherLiveCall.get(id, '') !== undefined]));
  }

  /** Tells every member (ringing ones too) on their own topic. */
  private announce(record: CallRecord, type: 'call.updated' | 'call.ended' | 'call.ring', now: number, only?: number[]) {
    for (const userId of only ?? record.members.keys()) this.e.append(topicOf.user(userId), { type, call: record.call }, now);
  }

  create(input: { chatId: string; callerId: number; calleeIds: number[]; video: boolean; maxMembers: number }) {
    return this.e.write((): CallChange => {
      const status = this.q.chatStatus.get(input.chatId, input.callerId);
      if (status !== 'accepted') throw notFound('chat');
      if ((this.q.chatAccepted.get(input.chatId) as number) < 2) throw conflict('chat_not_active', 'this chat is not active: nobody else takes part in it');
      if (this.q.engaged.get(input.callerId)) throw conflict('conflict', 'you are already on a call (or being called): hang up or decline first');
      const rung = input.calleeIds
        .filter((id) => id !== input.callerId && this.q.chatStatus.get(input.chatId, id) === 'accepted' && !this.q.engaged.get(id))
        .slice(0, input.maxMembers - 1);
      if (rung.length === 0) throw conflict('callee_busy', 'everyone you are calling is on another call');
      const caller = this.e.prepare('SELECT username FROM users WHERE id = ?').pluck().get(input.callerId) as string;
      const id = randomUUID();
      const now = Date.now();
      this.e.prepare('INSERT INTO calls (id, chat_id, created_by, created_at, video, state) VALUES (?, ?, ?, ?, ?, ?)')
        .run(id, input.chatId, caller, now, input.video ? 1 : 0, 'ringing');
      const add = this.e.prepare('INSERT INTO call_members (call_id, user_id, state, position) VALUES (?, ?, ?, ?)');
      add.run(id, input.callerId, 'joined', 0);
      rung.forEach((userId, i) => add.run(id, userId, 'ringing', i + 1));
      const record = this.record(id)!;
      this.announce(record, 'call.ring', now, rung);
      return { call: record.call, onCall: new Map([[input.callerId, true]]) };
    });
  }

  byId(callId: string) {
    return this.e.read(() => this.record(callId));
  }

  act(callId: string, userId: number, action: CallAction) {
    return this.e.write((): CallChange => {
      const before = this.record(callId);
      const state = before?.members.get(userId);
      if (!before || state === undefined) throw notFound('call');
      const ended = before.call.state === 'ended';
      // Repeats and late answers after the end are harmless: the call as it is.
      const unchanged = () => ({ call: before.call, onCall: this.onCall([userId]) });
      if (action === 'accept') {
        if (state === 'joined' && !ended) return unchanged();
        if (ended || state !== 'ringing') throw conflict('conflict', ended ? 'this call has ended' : `you cannot accept from ${state}`);
        if (this.q.otherLiveCall.get(userId, callId) !== undefined) throw conflict('conflict', 'you are on another call: hang up first');
        return this.change(before, [[userId, 'joined']], action);
      }
      if (action === 'decline') {
        if (ended || state === 'declined') return unchanged();
        if (state !== 'ringing') throw conflict('conflict', `you cannot decline from ${state}: hang up instead`);
        return this.change(before, [[userId, 'declined']], action);
      }
      // hangup: leaves a joined call; while ringing it is a decline
      if (ended || (state !== 'joined' && state !== 'ringing')) return unchanged();
      return this.change(before, [[userId, state === 'ringing' ? 'declined' : 'left']], action);
    });
  }

  /** Applies member changes, settles the call (end or not), announces; inside a write. */
  private change(before: CallRecord, moves: Array<[number, CallMemberState]>, trigger: Trigger, now = Date.now()): CallChange {
    const id = before.call.id;
    const row = this.q.call.get(id) as Row;
    for (const [userId, state] of moves) this.q.setMember.run(state, id, userId);
    // Members come in position order: the caller first.
    const states = [...before.members].map(([userId, state], i) => ({
      userId,
      caller: i === 0,
      state: moves.find(([u]) => u === userId)?.[1] ?? state,
    }));
    let answeredAt: number | null = row.answered_at;
    if (answeredAt === null && states.filter((m) => m.state === 'joined').length >= 2) {
      answeredAt = now;
      this.e.prepare("UPDATE calls SET state = 'active', answered_at = ? WHERE id = ?").run(now, id);
    }
    const reason = endReasonAfter(states, answeredAt !== null, trigger);
    if (reason) this.end(before.call, states, answeredAt, reason, now);
    const after = this.record(id)!;
    this.announce(after, reason ? 'call.ended' : 'call.updated', now);
    return { call: after.call, onCall: this.onCall(after.members.keys()) };
  }

  /** Ends the call: ringing members missed it, joined ones left; the chat's history records it. */
  private end(call: Call, states: Array<{ userId: number; state: CallMemberState }>, answeredAt: number | null, reason: CallEndReason, now: number) {
    for (const m of states) {
      if (m.state === 'ringing') this.q.setMember.run('missed', call.id, m.userId);
      else if (m.state === 'joined') this.q.setMember.run('left', call.id, m.userId);
    }
    this.e.prepare("UPDATE calls SET state = 'ended', ended_at = ?, end_reason = ? WHERE id = ?").run(now, reason, call.id);
    const { call: recorded, text } = callRecord(call.id, call.video, answeredAt ?? undefined, now, reason);
    const callerId = this.e.prepare('SELECT id FROM users WHERE username = ?').pluck().get(call.createdBy) as number | undefined;
    // The caller "sends" the record line; its client id ("call:" is outside what clients may use) makes it one per call.
    const row = this.e.prepare(
      'INSERT INTO messages (chat_id, from_user_id, from_username, client_id, text, sent_at, call) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *',
    ).get(call.chatId, callerId ?? null, call.createdBy, `call:${call.id}`, text, now, JSON.stringify(recorded)) as Row;
    this.e.append(topicOf.chat(call.chatId), { type: 'chat.message', message: toMessage(row) }, now);
  }

  signal(callId: string, fromId: number, to: string, signal: CallSignal) {
    return this.e.write(() => {
      const record = this.record(callId);
      const state = record?.members.get(fromId);
      if (!record || state === undefined) throw notFound('call');
      if (record.call.state === 'ended') throw conflict('conflict', 'this call has ended');
      if (state !== 'joined') throw conflict('conflict', 'only members who joined the call can signal');
      const index = record.call.members.findIndex((m) => m.username.toLowerCase() === to.toLowerCase());
      const toId = index < 0 ? undefined : [...record.members.keys()][index];
      if (toId === undefined) throw notFound(`${to} in this call`);
      if (toId === fromId) throw new AppError(400, 'invalid_request', 'to: you cannot signal yourself');
      const toState = record.members.get(toId);
      if (toState !== 'joined' && toState !== 'ringing') throw conflict('conflict', `${to} is not in the call any more`);
      const from = record.call.members[[...record.members.keys()].indexOf(fromId)]!.username;
      this.e.append(topicOf.user(toId), { type: 'call.signal', callId, from, signal });
    });
  }

  async expire(startedBefore: number) {
    const due = this.e.prepare(
      `SELECT DISTINCT c.id FROM calls c JOIN call_members m ON m.call_id = c.id
       WHERE c.state != 'ended' AND c.created_at <= ? AND m.state = 'ringing'`,
    );
    // Runs every second: a plain read first, a write (transaction) only when a ring is due.
    if (!(await this.e.read(() => due.get(startedBefore)))) return [];
    return this.e.write((): CallChange[] => {
      const ids = due.pluck().all(startedBefore) as string[];
      return ids.map((id) => {
        const before = this.record(id)!;
        const moves = [...before.members].filter(([, s]) => s === 'ringing').map(([u]): [number, CallMemberState] => [u, 'missed']);
        return this.change(before, moves, 'timeout');
      });
    });
  }

  joinedMembers() {
    return this.e.read(
      () =>
        this.e.prepare(
          "SELECT m.call_id AS callId, m.user_id AS userId FROM calls c JOIN call_members m ON m.call_id = c.id WHERE c.state != 'ended' AND m.state = 'joined'",
        ).all() as Array<{ callId: string; userId: number }>,
    );
  }

  usersOnCall() {
    return this.e.read(
      () =>
        this.e.prepare("SELECT DISTINCT m.user_id FROM call_members m JOIN calls c ON c.id = m.call_id WHERE c.state != 'ended' AND m.state = 'joined'")
          .pluck()
          .all() as number[],
    );
  }
}
