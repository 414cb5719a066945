/**
 * Meetings with guests (docs/meetings.md). A host (a user) asks for a number; a guest with no
 * account knocks with it (public, rate-limited per address, answered after the same delay
 * whether the number is live or not) and gets a guest token for that meeting only; the host
 * admits or rejects. Routes that accept a guest token say `guests: true` (http/route.ts); here
 * those are the documents, the presentation and the pointer, and they keep the guest to its own
 * meeting. Elsewhere: GET /api/v1/events, sending and reading the meeting's chat (chat/routes.ts).
 */
import type Router from '@koa/router';
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from 'koa';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { z } from 'zod';
import {
  CreateMeetingRequest,
  GuestActionResponse,
  KnockRequest,
  KnockResponse,
  MEETING_LIMITS,
  MeetingDocumentResponse,
  MeetingDocumentsResponse,
  MeetingEndedResponse,
  MeetingGuestParams,
  MeetingParams,
  MeetingResponse,
  MeetingsResponse,
  PointerRequest,
  PresentationRequest,
  PresentationResponse,
  PresenterRequest,
  topicOf,
} from '../../../shared/index.js';
import { hashToken } from '../auth/sessions.js';
import type { Services } from '../context.js';
import { AppError } from '../errors.js';
import { rawBodyWithin } from '../http/body.js';
import { route } from '../http/route.js';
import type { DocumentRecord } from '../store/meetings.js';
import { DOCUMENT_TYPES, MeetingFiles } from './documents.js';
import {
  admitGuest,
  createMeeting,
  endMeeting,
  hostedMeeting,
  knock,
  mayPresent,
  mayTakePart,
  present,
  presenterMeeting,
  rejectGuest,
  setPresenter,
  toMeeting,
} from './rules.js';

const UPLOAD_DEADLINE_MS = 120_000;
const DocumentQuery = z.strictObject({ name: z.string().trim().max(200).optional() });

async function take(limiter: RateLimiterAbstract, key: string, what: string) {
  try {
    await limiter.consume(key);
  } catch (res) {
    if (!(res instanceof RateLimiterRes)) throw res;
    const seconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
    throw new AppError(429, 'rate_limited', `too many ${what}; try again in ${seconds} s`, { 'Retry-After': String(seconds) });
  }
}

const guestView = (g: { id: number; name: string }) => ({ guest: { id: g.id, name: g.name } });

/** Page images under their signed paths (mounted by app.ts beside media). */
export function meetingServing(router: Router, { config, secret }: Services) {
  new MeetingFiles(config.dataDir, secret).serve(router);
}

export function meetingRoutes({ store, hub, limits, secret, config, subscriptions, calls }: Services) {
  const files = new MeetingFiles(config.dataDir, secret);
  const knocks = limits.limiter({ name: 'meeting-knock', points: config.knocksPerMinute, duration: 60 });
  const pointers = limits.limiter({ name: 'meeting-pointer', points: MEETING_LIMITS.pointerPerSecond, duration: 1 });

  /** Ends a meeting and removes its files; the host's presence follows its call. */
  async function end(hostId: number, meetingId: string) {
    const changes = await store.write(async (tx) => endMeeting(tx, await hostedMeeting(tx, hostId, meetingId)));
    for (const change of changes) await calls.applied(change);
    await files.removeMeeting(meetingId);
  }

  return [
    route({
      method: 'post',
      path: '/api/v1/meetings',
      tag: 'meetings',
      summary: 'Start a meeting: a fresh 11-digit number, or with `fixed` the host’s own number (a live meeting on it ends)',
      access: 'user',
      body: CreateMeetingRequest,
      response: MeetingResponse,
      status: 201,
      async handler({ body, session }) {
        const { meeting, ended, changes } = await store.write((tx) => createMeeting(tx, session.user.id, body));
        for (const change of changes) await calls.applied(change);
        // The host's poll now listens to the meeting's chat (its events go there).
        subscriptions.changed(session.user.id);
        if (ended) await files.removeMeeting(ended);
        return { meeting: toMeeting(meeting) };
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/meetings',
      tag: 'meetings',
      summary: 'My live meetings, newest first',
      access: 'user',
      response: MeetingsResponse,
      async handler({ session }) {
        return { meetings: (await store.meetings.liveOfHost(session.user.id)).map(toMeeting) };
      },
    }),
    route({
      method: 'delete',
      path: '/api/v1/meetings/:id',
      tag: 'meetings',
      summary: 'End a meeting: its guests are told and their tokens end; its documents are removed',
      access: 'user',
      params: MeetingParams,
      response: MeetingEndedResponse,
      async handler({ params, session }) {
        await end(session.user.id, params.id);
        return { ok: true as const };
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/guest/knock',
      tag: 'meetings',
      summary:
        `Knock on a meeting's number (no account): a guest token for that meeting, valid until it ends or the guest is turned away. ` +
        `Poll GET /api/v1/events with it for meeting.admitted / meeting.rejected. Known or not, the answer comes after the same delay; ` +
        `at most ${MEETING_LIMITS.knocksPerMinute} knocks a minute per address (by default).`,
      access: 'public',
      body: KnockRequest,
      response: KnockResponse,
      status: 202,
      errors: [404, 429],
      async handler({ body }, ctx: Context) {
        const started = Date.now();
        // Charged before the number is looked at: guessing numbers costs the limit's points.
        await take(knocks, ctx.ip, 'knocks');
        try {
          const token = randomBytes(32).toString('base64url');
          const cursor = await store.headSeq();
          const guest = await store.write((tx) => knock(tx, { number: body.number, name: body.name, address: ctx.ip, tokenHash: hashToken(token) }));
          if (!guest) throw new AppError(404, 'not_found', 'no meeting is open on this number');
          return { guest: { id: guest.id, token }, cursor: String(cursor) };
        } finally {
          // The same floor for every answer: a live number cannot be told from timing.
          await sleep(Math.max(0, started + MEETING_LIMITS.knockAnswerMs - Date.now()));
        }
      },
    }),
    ...(['admit', 'reject'] as const).map((verb) =>
      route({
        method: 'post',
        path: `/api/v1/meetings/:id/guests/:guestId/${verb}`,
        tag: 'meetings',
        summary: verb === 'admit' ? 'Let a knocking guest in (meeting.admitted to it, meeting.joined to the others)' : 'Turn a guest away (meeting.rejected; its token ends)',
        access: 'user',
        params: MeetingGuestParams,
        response: GuestActionResponse,
        errors: [409],
        async handler({ params, session }) {
          if (verb === 'admit') {
            const view = (doc: DocumentRecord) => files.view(doc);
            return guestView(await store.write((tx) => admitGuest(tx, session.user.id, params.id, params.guestId, view)));
          }
          const { guest, changes } = await store.write((tx) => rejectGuest(tx, session.user.id, params.id, params.guestId));
          for (const change of changes) await calls.applied(change);
          return guestView(guest);
        },
      }),
    ),
    route({
      method: 'post',
      path: '/api/v1/meetings/:id/guests/:guestId/presenter',
      tag: 'meetings',
      summary: 'Allow (or stop) an admitted guest to upload and show documents',
      access: 'user',
      params: MeetingGuestParams,
      body: PresenterRequest,
      response: GuestActionResponse,
      errors: [409],
      async handler({ params, body, session }) {
        return guestView(await store.write((tx) => setPresenter(tx, session.user.id, params.id, params.guestId, body.allowed)));
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/meetings/:id/documents',
      tag: 'meetings',
      summary:
        `Add a document (PDF, PNG or JPEG, at most ${MEETING_LIMITS.documentBytes} bytes; the host or a guest allowed to present): ` +
        `a PDF becomes one image per page (first ${MEETING_LIMITS.documentPages} pages, longest side ${MEETING_LIMITS.pageMaxPixels} px)`,
      access: 'user',
      guests: true,
      params: MeetingParams,
      query: DocumentQuery,
      rawBody: { types: DOCUMENT_TYPES, maxBytes: MEETING_LIMITS.documentBytes, description: 'the document' },
      response: MeetingDocumentResponse,
      status: 201,
      errors: [403, 409],
      async handler({ params, query, session }, ctx: Context) {
        mayPresent(session, await store.meetings.byId(params.id), session.guest && (await store.meetings.guestById(session.guest.id)));
        const type = (ctx.get('content-type').split(';')[0] ?? '').trim().toLowerCase();
        if (!(DOCUMENT_TYPES as readonly string[]).includes(type)) throw new AppError(415, 'unsupported_media_type', 'send the document as application/pdf, image/png or image/jpeg');
        const data = await rawBodyWithin(ctx.req, ctx.res, MEETING_LIMITS.documentBytes, UPLOAD_DEADLINE_MS);
        if (data.length === 0) throw new AppError(400, 'invalid_request', 'the document is empty');
        const id = randomUUID();
        const pages = await files.store(params.id, id, data);
        const doc = { id, meetingId: params.id, name: query.name || `Document ${new Date().toISOString().slice(0, 16)}`, pages, createdAt: Date.now() };
        try {
          await store.write(async (tx) => {
            await presenterMeeting(tx, session, params.id); // still so, now that it is converted
            await tx.meetings.insertDocument(doc);
          });
        } catch (error) {
          await files.removeDocument(params.id, id);
          throw error;
        }
        return { document: files.view(doc) };
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/meetings/:id/documents',
      tag: 'meetings',
      summary: 'The documents of a meeting I take part in (host or admitted guest), with fresh page links',
      access: 'user',
      guests: true,
      params: MeetingParams,
      response: MeetingDocumentsResponse,
      errors: [409],
      async handler({ params, session }) {
        mayTakePart(session, await store.meetings.byId(params.id));
        return { documents: (await store.meetings.documents(params.id)).map((d) => files.view(d)) };
      },
    }),
    route({
      method: 'put',
      path: '/api/v1/meetings/:id/presentation',
      tag: 'meetings',
      summary: 'Show a page (1 is the first) of one of the meeting’s documents to everyone (meeting.page)',
      access: 'user',
      guests: true,
      params: MeetingParams,
      body: PresentationRequest,
      response: PresentationResponse,
      errors: [403, 409],
      async handler({ params, body, session }) {
        return store.write((tx) => present(tx, session, params.id, body, (doc) => files.view(doc)));
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/meetings/:id/pointer',
      tag: 'meetings',
      summary: `The presenter's pointer on the page shown, in page fractions (meeting.pointer to the polls held now; not kept). At most ${MEETING_LIMITS.pointerPerSecond} a second.`,
      access: 'user',
      guests: true,
      params: MeetingParams,
      body: PointerRequest,
      response: z.strictObject({ ok: z.literal(true) }),
      errors: [403, 409, 429],
      async handler({ params, body, session }) {
        await take(pointers, String(session.tokenId), 'pointer moves');
        const meeting = mayPresent(session, await store.meetings.byId(params.id), session.guest && (await store.meetings.guestById(session.guest.id)));
        if (!meeting.presentation) throw new AppError(409, 'conflict', 'no page is shown yet');
        const { documentId, page } = meeting.presentation;
        const fields = JSON.stringify({
          type: 'meeting.pointer',
          at: new Date().toISOString(),
          meetingId: meeting.id,
          documentId,
          page,
          x: body.x,
          y: body.y,
          from: session.guest ? `${session.guest.name} (guest)` : session.user.username,
        });
        hub.notify(topicOf.chat(meeting.chatId), (cursor) => `{"cursor":"${cursor}",${fields.slice(1)}`, session.tokenId);
        return { ok: true as const };
      },
    }),
  ];
}
