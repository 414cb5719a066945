/**
 * GET /api/v1/events: the one channel every change reaches a client through. Answers at once
 * when events after the cursor exist; otherwise holds the request until one is committed or
 * `wait` passes. The next cursor the client sends is its acknowledgement.
 *
 * Declared here like every route (validation, documentation, errors); it is a lane route: a valid
 * poll is usually answered by the event lane (lane.ts), which runs this same handler without Koa.
 */
import type { ServerResponse } from 'node:http';
import type { z } from 'zod';
import { EventsQuery, EventsResponse, LIMITS, topicOf } from '../../../shared/index.js';
import type { Services } from '../context.js';
import { route, type LaneBody } from '../http/route.js';
import type { GuestSession, SessionRecord, StoredEvent } from '../store/store.js';
import type { Waiter } from './hub.js';

const answerText = (events: StoredEvent[], after: number) =>
  `{"events":[${events.map((e) => e.json).join(',')}],"cursor":"${events.length ? events[events.length - 1]!.seq : after}"}`;

/**
 * The answer that carries one event alone, built once: a fan-out wakes thousands of polls with
 * the very same event, and each would otherwise build the same text. Kept a string, not bytes:
 * node:http joins a string body to its headers in one chunk, a Buffer goes as a chunk of its own.
 */
const soleAnswers = new WeakMap<StoredEvent, string>();
function soleAnswer(event: StoredEvent): string {
  let text = soleAnswers.get(event);
  if (text === undefined) soleAnswers.set(event, (text = answerText([event], 0)));
  return text;
}

export type PollQuery = z.output<typeof EventsQuery>;
export const EVENTS_PATH = '/api/v1/events';

/** Where a held poll's response keeps its poll, for the one shared 'close' listener. */
const HELD = Symbol('held poll');
type HeldResponse = ServerResponse & { [HELD]?: HeldPoll };

/**
 * A poll in progress: the hub's waiter and what ends it, as one object with methods rather than
 * closures (thousands are held at once and each wake-up replaces them all; under tsx every
 * named closure also cost a defineProperty per poll).
 */
class HeldPoll implements Waiter {
  readonly pending: StoredEvent[] = [];
  /** looking: reading the log; held: waiting; over: answered. */
  phase: 'looking' | 'held' | 'over' = 'looking';
  /** Woken (or replaced) while still reading the log: decided once the reading is done. */
  wokenWith: StoredEvent[] | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly userId: number,
    readonly tokenId: number,
    readonly topics: readonly string[],
    readonly after: number,
    private readonly services: Pick<Services, 'hub' | 'presence'>,
    private readonly res: HeldResponse,
    private readonly intervalMs: number,
    private readonly answer: (body: LaneBody) => void,
  ) {}

  wake(events: StoredEvent[]) {
    if (this.phase === 'held') this.end(events);
    else if (this.phase === 'looking') this.wokenWith = events;
  }

  /** Waits for an event, the end of the wait, or the client going away. */
  hold(waitMs: number) {
    this.phase = 'held';
    this.timer = setTimeout(endWait, waitMs, this);
    this.res[HELD] = this;
    this.res.on('close', clientGone);
  }

  /** The wait is over (or the client left): answer with what it has. */
  gone() {
    this.services.hub.wakeWaiter(this);
  }

  end(events: StoredEvent[]) {
    this.stop();
    this.answer(events.length === 1 ? soleAnswer(events[0]!) : answerText(events, this.after));
  }

  stop() {
    this.phase = 'over';
    clearTimeout(this.timer);
    this.res.off('close', clientGone);
    this.res[HELD] = undefined;
    // A meeting guest (negative stand-in id) has no presence.
    if (this.userId > 0) this.services.presence.pollEnded(this.userId, this.tokenId, this.intervalMs);
  }
}

function endWait(poll: HeldPoll) {
  poll.gone();
}

function clientGone(this: HeldResponse) {
  this[HELD]?.gone();
}

/** A meeting guest listens to its own topic, and once admitted to its meeting's chat (where the meeting's events go too). */
const guestTopics = (guest: GuestSession) => (guest.admitted ? [topicOf.guest(guest.id), topicOf.chat(guest.chatId)] : [topicOf.guest(guest.id)]);

/**
 * One poll of a session: calls `answer` once with the JSON text, when there is something to say
 * or the wait is over. The promise settles once the poll is answered or held (it rejects if the
 * store fails before); a held poll keeps only its HeldPoll and timer, no suspended async frames,
 * since thousands are held at once.
 */
export function longPoll({ store, hub, subscriptions, presence }: Services) {
  const services = { hub, presence };
  return async function poll(query: PollQuery, session: SessionRecord, res: ServerResponse, answer: (body: LaneBody) => void): Promise<void> {
    const userId = session.user.id;
    const tokenId = session.tokenId;
    // The log's head is read only when the hub cannot vouch for the cursor (first poll,
    // a cursor from the future or from before this process started).
    const after = query.after === undefined ? await store.headSeq() : Number(query.after);
    if ((!hub.isKnown(after) && after > (await store.headSeq())) || after < (await store.prunedThrough())) {
      return answer(`{"reset":true,"cursor":"${await store.headSeq()}"}`);
    }

    // Settled: topics looked up while the user's chats changed would leave the new chat's events
    // out of this poll while others move its cursor past them.
    const listening = session.guest ? guestTopics(session.guest) : await subscriptions.settled(userId);
    const cameOnline = session.guest ? undefined : presence.pollStarted(userId, tokenId, query.wait * 1000);
    const waiter = new HeldPoll(userId, tokenId, listening, after, services, res, query.interval * 1000, answer);
    // Listen before looking, so an event committed in between is not missed.
    hub.add(waiter);
    let stored: StoredEvent[];
    try {
      const fresh = hub.topicsWithEvents(listening, after);
      stored = fresh.length > 0 ? await store.readEvents([...fresh], after, LIMITS.eventsPage) : [];
    } catch (error) {
      hub.remove(waiter);
      waiter.stop();
      throw error;
    }
    if (stored.length > 0 || query.wait === 0 || waiter.wokenWith) {
      hub.remove(waiter);
      // A first poll answers once the user's colleagues have been told they are online.
      if (cameOnline) await cameOnline;
      return waiter.end(stored.length > 0 ? stored : (waiter.wokenWith ?? stored));
    }
    waiter.hold(query.wait * 1000);
  };
}

export function eventRoutes(services: Services) {
  const poll = longPoll(services);
  return [
    route({
      method: 'get',
      path: EVENTS_PATH,
      tag: 'events',
      summary: 'Long poll: events after the cursor (omit it to start from now), held up to `wait` seconds',
      access: 'user',
      guests: true,
      query: EventsQuery,
      response: EventsResponse,
      lane: ({ query, session }, res, answer) => poll(query, session, res, answer),
    }),
  ];
}
