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

const answer = (events: StoredEvent[], after: number) =>
  `{"events":[${events.map((e) => e.json).join(',')}],"cursor":"${events.length ? events[events.length - 1]!.seq : after}"}`;

export type PollQuery = z.output<typeof EventsQuery>;

/** One poll of a session: resolves to the answer's JSON text once there is something to say or the wait is over. */
export function longPoll({ store, hub, topics, presence }: Services) {
  return async function poll(query: PollQuery, session: SessionRecord, res: ServerResponse): Promise<string> {
    const userId = session.user.id;
    const tokenId = session.tokenId;
    // The log's head is read only when the hub cannot vouch for the cursor (first poll,
    // a cursor from the future or from before this process started).
    const after = query.after === undefined ? await store.headSeq() : Number(query.after);
    if ((!hub.isKnown(after) && after > (await store.headSeq())) || after < (await store.prunedThrough())) {
      return `{"reset":true,"cursor":"${await store.headSeq()}"}`;
    }

    const listening = await topics.of(userId);
    presence.pollStarted(userId, tokenId);
    try {
      // Listen before looking, so an event committed in between is not missed.
      let wake!: (events: StoredEvent[]) => void;
      const woken = new Promise<StoredEvent[]>((resolve) => (wake = resolve));
      const waiter: Waiter = { userId, tokenId, topics: listening, after, pending: [], wake };
      hub.add(waiter);
      const fresh = hub.topicsWithEvents(listening, after);
      const stored = fresh.length > 0 ? await store.readEvents([...fresh], after, LIMITS.eventsPage) : [];
      if (stored.length > 0 || query.wait === 0) {
        hub.remove(waiter);
        return answer(stored, after);
      }
      const timer = setTimeout(() => hub.wakeWaiter(waiter), query.wait * 1000);
      const gone = () => hub.wakeWaiter(waiter); // the client went away: end the wait now
      res.once('close', gone);
      const events = await woken;
      clearTimeout(timer);
      res.off('close', gone);
      return answer(events, after);
    } finally {
      presence.pollEnded(userId, tokenId, query.interval * 1000);
    }
  };
}

export function eventRoutes(services: Services) {
  const poll = longPoll(services);
  return [
    route({
      method: 'get',
      path: '/api/v1/events',
      tag: 'events',
      summary: 'Long poll: events after the cursor (omit it to start from now), held up to `wait` seconds',
      access: 'user',
      query: EventsQuery,
      response: EventsResponse,
      async handler({ query, session }, ctx) {
        return new RawJson(await poll(query, session, ctx.res));
      },
    }),
  ];
}
