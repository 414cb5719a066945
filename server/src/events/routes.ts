/**
 * GET /api/v1/events: the one channel every change reaches a client through. Answers at once
 * when events after the cursor exist; otherwise holds the request until one is committed or
 * `wait` passes. The next cursor the client sends is its acknowledgement.
 *
 * Declared here like every route (validation, documentation, errors); a valid poll is usually
 * answered by the event lane (lane.ts), which runs the same `longPoll` without Koa.
 */
import type { ServerResponse } from 'node:http';
import type { z } from 'zod';
import { EventsQuery, EventsResponse, LIMITS } from '../../../shared/index.js';
import type { Services } from '../context.js';
import { RawJson, route } from '../http/route.js';
import type { SessionRecord, StoredEvent } from '../store/store.js';
import type { Waiter } from './hub.js';

const answerText = (events: StoredEvent[], after: number) =>
  `{"events":[${events.map((e) => e.json).join(',')}],"cursor":"${events.length ? events[events.length - 1]!.seq : after}"}`;

export type PollQuery = z.output<typeof EventsQuery>;
export const EVENTS_PATH = '/api/v1/events';

/**
 * One poll of a session: calls `answer` once with the JSON text, when there is something to say
 * or the wait is over. The promise settles once the poll is answered or held (it rejects if the
 * store fails before); a held poll keeps only its waiter, timer and callbacks, no suspended
 * async frames, since thousands are held at once.
 */
export function longPoll({ store, hub, topics, presence }: Services) {
  return async function poll(query: PollQuery, session: SessionRecord, res: ServerResponse, answer: (body: string) => void): Promise<void> {
    const userId = session.user.id;
    const tokenId = session.tokenId;
    // The log's head is read only when the hub cannot vouch for the cursor (first poll,
    // a cursor from the future or from before this process started).
    const after = query.after === undefined ? await store.headSeq() : Number(query.after);
    if ((!hub.isKnown(after) && after > (await store.headSeq())) || after < (await store.prunedThrough())) {
      return answer(`{"reset":true,"cursor":"${await store.headSeq()}"}`);
    }

    const listening = await topics.of(userId);
    presence.pollStarted(userId, tokenId);
    /** looking: reading the log; held: waiting; over: answered. */
    let phase: 'looking' | 'held' | 'over' = 'looking';
    let wokenWith: StoredEvent[] | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = () => {
      phase = 'over';
      clearTimeout(timer);
      res.off('close', gone);
      presence.pollEnded(userId, tokenId, query.interval * 1000);
    };
    const end = (events: StoredEvent[]) => {
      stop();
      answer(answerText(events, after));
    };
    const waiter: Waiter = {
      userId,
      tokenId,
      topics: listening,
      after,
      pending: [],
      wake: (events) => {
        if (phase === 'held') end(events);
        else if (phase === 'looking') wokenWith = events; // replaced or woken while reading: decided below
      },
    };
    const gone = () => hub.wakeWaiter(waiter); // the client went away: end the wait now
    // Listen before looking, so an event committed in between is not missed.
    hub.add(waiter);
    let stored: StoredEvent[];
    try {
      const fresh = hub.topicsWithEvents(listening, after);
      stored = fresh.length > 0 ? await store.readEvents([...fresh], after, LIMITS.eventsPage) : [];
    } catch (error) {
      hub.remove(waiter);
      stop();
      throw error;
    }
    if (stored.length > 0 || query.wait === 0 || wokenWith) {
      hub.remove(waiter);
      return end(stored.length > 0 ? stored : (wokenWith ?? stored));
    }
    phase = 'held';
    timer = setTimeout(gone, query.wait * 1000);
    res.once('close', gone);
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
      query: EventsQuery,
      response: EventsResponse,
      async handler({ query, session }, ctx) {
        return new RawJson(await new Promise<string>((resolve, reject) => poll(query, session, ctx.res, resolve).catch(reject)));
      },
    }),
  ];
}
