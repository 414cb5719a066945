/**
 * Calls between the members of a chat: who may call whom, the ring timeout, presence while on a
 * call, and the ICE servers (STUN, and TURN with short-lived credentials) clients use.
 */
import { createHmac } from 'node:crypto';
import { CALL_LIMITS, type Call, type CallSignal, type IceServer, type IceServersResponse } from '../../../shared/index.js';
import type { ServerConfig } from '../config.js';
import { AppError, notFound } from '../errors.js';
import type { Subscriptions } from '../events/subscriptions.js';
import type { PresenceService } from '../presence/service.js';
import type { Store, UserRecord } from '../store/store.js';
import type { CallAction } from './rules.js';
import { holdCall, joinCall, ringIntoCall, transferCall } from './call-state.js';
import { actOnCall, expireRings, signalCall, startCall, type CallChange } from './transitions.js';

export type CallSettings = Pick<ServerConfig, 'stunUrls' | 'turnUrls' | 'turnSecret' | 'turnTtlSeconds' | 'callPath' | 'callRingSeconds'>;

/**
 * TURN REST API credentials (coturn `use-auth-secret`): the username is `<expiry>:<user>`, the
 * password base64(HMAC-SHA1(secret, username)); coturn checks both without asking us.
 */
export function turnCredential(secret: string, username: string, expiresAtSeconds: number) {
  const user = `${expiresAtSeconds}:${username}`;
  return { username: user, credential: createHmac('sha1', secret).update(user).digest('base64') };
}

export class CallService {
  constructor(
    private readonly store: Store,
    private readonly presence: PresenceService,
    private readonly settings: CallSettings,
    /** Told when a call's transfer makes its target take part in the chat (tests may leave it out). */
    private readonly subscriptions?: Pick<Subscriptions, 'changed'>,
  ) {}

  get ringMs() {
    return this.settings.callRingSeconds * 1000;
  }

  /** Rings the chat's other members who are online and free (at most CALL_LIMITS.members in all). */
  async start(caller: UserRecord, chatId: string, video: boolean): Promise<Call> {
    const change = await this.store.write((tx) =>
      // A meeting guest (negative id) has no presence: it is in the meeting's page while it takes part.
      startCall(tx, { chatId, caller, video, maxMembers: CALL_LIMITS.members, online: (u) => u.id < 0 || this.presence.effective(u) !== 'offline' }),
    );
    await this.applied(change);
    return change.call;
  }

  /** The call, for its members and those taking part in its chat, who may join it (404 for anyone else: no hint that it exists). */
  async view(user: UserRecord, callId: string): Promise<Call> {
    const record = await this.store.calls.byId(callId);
    if (record && !record.members.has(user.id)) {
      const chat = await this.store.chatById(record.call.chatId);
      if (chat?.memberStatus.get(user.id) === 'accepted') return record.call;
    }
    if (!record || !record.members.has(user.id)) throw notFound('call');
    return record.call;
  }

  /** Joins (or rejoins) a live call of a chat the user takes part in (call-state.ts). */
  async join(user: UserRecord, callId: string): Promise<Call> {
    const change = await this.store.write((tx) => joinCall(tx, callId, user, CALL_LIMITS.members));
    await this.applied(change);
    return change.call;
  }

  /** Puts a call of two on hold, or resumes it. */
  async hold(user: UserRecord, callId: string, hold: boolean): Promise<Call> {
    return (await this.store.write((tx) => holdCall(tx, callId, user.id, hold))).call;
  }

  /** Rings members of the call's chat into the running call (400 for a username nobody has). */
  async ring(user: UserRecord, callId: string, usernames: string[]): Promise<Call> {
    const targets: UserRecord[] = [];
    for (const name of new Map(usernames.map((n) => [n.toLowerCase(), n])).values()) {
      const target = await this.store.userByName(name);
      if (!target) {
        await this.view(user, callId); // a stranger learns nothing of the call: 404 first
        throw new AppError(400, 'invalid_request', `usernames: there is no user ${name}`);
      }
      targets.push(target);
    }
    const change = await this.store.write((tx) => ringIntoCall(tx, callId, user, targets, CALL_LIMITS.members, (u) => this.presence.effective(u) !== 'offline'));
    await this.applied(change);
    return change.call;
  }

  /** Transfers a call of two to a colleague (400 for a username nobody has). */
  async transfer(user: UserRecord, callId: string, to: string, reason: string | undefined, warm = false): Promise<Call> {
    const target = await this.store.userByName(to);
    if (!target) {
      // A stranger learns nothing of the call from the answer: the call is checked first.
      await this.view(user, callId);
      throw new AppError(400, 'invalid_request', `to: there is no user ${to}`);
    }
    const change = await this.store.write((tx) => transferCall(tx, callId, user, target, reason, (u) => this.presence.effective(u) !== 'offline', warm));
    await this.applied(change);
    return change.call;
  }

  async act(user: UserRecord, callId: string, action: CallAction): Promise<Call> {
    const change = await this.store.write((tx) => actOnCall(tx, callId, user.id, action));
    await this.applied(change);
    return change.call;
  }

  signal(user: UserRecord, callId: string, to: string, signal: CallSignal) {
    return this.store.write((tx) => signalCall(tx, callId, user.id, to, signal));
  }

  /**
   * Runs on a timer (and at start, to catch up): ends rings nobody answered in time, and hangs up
   * for members whose client went away (offline past the presence grace: a closed or crashed
   * panel), so nobody stays busy in a call that nobody is in.
   */
  async sweep() {
    const startedBefore = Date.now() - this.ringMs;
    if (await this.store.calls.ringsDue(startedBefore)) {
      for (const change of await this.store.write((tx) => expireRings(tx, startedBefore))) await this.applied(change);
    }
    const joined = await this.store.calls.joinedMembers();
    if (joined.length === 0) return;
    // Connected on any node (several nodes: by the others' presence leases too).
    const connected = await this.presence.connected([...new Set(joined.map((m) => m.userId))]);
    for (const { callId, userId } of joined) {
      if (!connected.has(userId)) await this.applied(await this.store.write((tx) => actOnCall(tx, callId, userId, 'hangup')));
    }
  }

  /**
   * After a restart: those on a live call show busy again, and count as connected for `holdMs`
   * (like those who were online) so the sweeper does not hang up before their panel is back;
   * this includes those who appear offline, whom presence.restore() does not hold.
   */
  async restore(holdMs: number) {
    const until = Date.now() + holdMs;
    for (const userId of await this.store.calls.usersOnCall()) {
      this.presence.holdOpen(userId, until);
      await this.presence.setOnCall(userId, true);
    }
  }

  iceServers(user: UserRecord, now = Date.now()): IceServersResponse {
    const { stunUrls, turnUrls, turnSecret, turnTtlSeconds, callPath } = this.settings;
    const expires = Math.floor(now / 1000) + turnTtlSeconds;
    const iceServers: IceServer[] = [];
    if (stunUrls.length > 0) iceServers.push({ urls: stunUrls });
    if (turnUrls.length > 0 && turnSecret) iceServers.push({ urls: turnUrls, ...turnCredential(turnSecret, user.username, expires) });
    return { iceServers, expiresAt: new Date(expires * 1000).toISOString(), policy: callPath };
  }

  /** Presence follows who is on a call (users only: a meeting guest, negative id, has none). Also for changes made elsewhere (a meeting that ended). */
  async applied(change: CallChange) {
    for (const userId of change.tookPart ?? []) this.subscriptions?.changed(userId);
    for (const [userId, onCall] of change.onCall) if (userId > 0) await this.presence.setOnCall(userId, onCall);
  }
}
