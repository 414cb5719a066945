/**
 * Meetings with guests (issue 19): a host asks for a communication number, a guest with no
 * account knocks with it, the host admits or rejects; admitted guests chat in the meeting's chat
 * and see the documents the host presents, page by page, with the presenter's pointer.
 *
 * This file imports only zod and limits: shared/schemas.ts imports it (Event union), so
 * importing schemas.ts from here would be an import cycle.
 */
import { z } from 'zod';
import { LIMITS } from './limits.js';

export const MEETING_LIMITS = {
  titleChars: 120,
  guestNameChars: LIMITS.displayNameChars,
  /** Knocks per address per minute (guessing numbers is slowed to this). */
  knocksPerMinute: 20,
  /** Every knock is answered this long after it arrived, known number or not (no timing oracle). */
  knockAnswerMs: 300,
  /** Largest document upload (bytes). */
  documentBytes: 20 * 1024 * 1024,
  /** Pages of a PDF turned into images (the rest are left out). */
  documentPages: 50,
  /** Longest side of a page image (pixels). */
  pageMaxPixels: 1600,
  /** Seconds pdftoppm may take for one document. */
  conversionSeconds: 30,
  /** Pointer moves per second per presenter (more are dropped with 429). */
  pointerPerSecond: 10,
} as const;

const Time = z.string().describe('ISO 8601 time');
const EventCursor = z.string().regex(/^\d{1,15}$/, 'an event cursor as returned by the server');
const base = { cursor: EventCursor, at: Time };

/**
 * 11 digits; never 050/070/080/090 first (those are real mobile numbers). The server draws them
 * with crypto randomness (all 11 digits random apart from that rule).
 */
export const MeetingNumber = z
  .string()
  .regex(/^\d{11}$/, 'the 11-digit meeting number')
  .refine((n) => !/^0[5789]0/.test(n), 'not a meeting number');
export const MeetingId = z.string().uuid();
export const GuestId = z.number().int().positive();

export const MeetingHost = z.strictObject({ username: z.string(), displayName: z.string() });
export const Meeting = z.strictObject({
  id: z.string(),
  number: z.string(),
  title: z.string(),
  /** Where a guest enters the number (relative to the server's address). */
  joinUrl: z.string(),
  host: MeetingHost,
  /** The meeting's chat (a normal chat; the host is its member, admitted guests may use it). */
  chatId: z.string(),
  /** The host's own stable number (`fixed`) rather than one made for this meeting. */
  fixed: z.boolean(),
  createdAt: Time,
});
export type Meeting = z.infer<typeof Meeting>;
export const CreateMeetingRequest = z.strictObject({
  title: z.string().trim().max(MEETING_LIMITS.titleChars).optional(),
  fixed: z.boolean().optional(),
});
export const MeetingResponse = z.strictObject({ meeting: Meeting });
export const MeetingsResponse = z.strictObject({ meetings: z.array(Meeting) });
export const MeetingParams = z.strictObject({ id: MeetingId });
export const MeetingGuestParams = z.strictObject({
  id: MeetingId,
  guestId: z.string().regex(/^[1-9]\d{0,14}$/, 'a guest id').transform(Number),
});

/** A guest as other participants see it. */
export const MeetingGuest = z.strictObject({ id: GuestId, name: z.string() });
/** A knocking guest as the host sees it: with the address it knocked from. */
export const KnockingGuest = MeetingGuest.extend({ address: z.string() });

export const KnockRequest = z.strictObject({
  number: z.string().regex(/^\d{11}$/, 'the 11-digit meeting number'),
  name: z.string().trim().min(1).max(MEETING_LIMITS.guestNameChars),
});
export const KnockResponse = z.strictObject({
  guest: z.strictObject({ id: GuestId, token: z.string() }),
  /** Poll GET /api/v1/events?after=<cursor> with the token: nothing meant for the guest is missed. */
  cursor: EventCursor,
});
export const GuestActionResponse = z.strictObject({ guest: MeetingGuest });
export const MeetingEndedResponse = z.strictObject({ ok: z.literal(true) });

export const MeetingPage = z.strictObject({ url: z.string(), width: z.number().int(), height: z.number().int() });
export const MeetingDocument = z.strictObject({ id: z.string(), name: z.string(), pages: z.array(MeetingPage) });
export type MeetingDocument = z.infer<typeof MeetingDocument>;
export const MeetingDocumentResponse = z.strictObject({ document: MeetingDocument });
export const MeetingDocumentsResponse = z.strictObject({ documents: z.array(MeetingDocument) });
export const PresentationRequest = z.strictObject({
  documentId: z.string().uuid(),
  /** 1 is the first page. */
  page: z.number().int().min(1).max(MEETING_LIMITS.documentPages),
});
export const PresentationResponse = z.strictObject({ documentId: z.string(), page: z.number().int() });
export const PointerRequest = z.strictObject({ x: z.number().min(0).max(1), y: z.number().min(0).max(1) });
export const PresenterRequest = z.strictObject({ allowed: z.boolean() });

// ---------- events ----------
const MeetingRef = z.strictObject({ id: z.string(), number: z.string(), title: z.string(), chatId: z.string() });
/** To the host (their own topic): someone knocks. */
export const MeetingKnockEvent = z.strictObject({ ...base, type: z.literal('meeting.knock'), meetingId: z.string(), guest: KnockingGuest });
/** To the guest (its own topic): let in; who is there. */
export const MeetingAdmittedEvent = z.strictObject({
  ...base,
  type: z.literal('meeting.admitted'),
  meeting: MeetingRef,
  host: MeetingHost,
  guests: z.array(MeetingGuest).describe('every admitted guest, this one included'),
  /** The page shown now, if any (a guest let in mid-presentation starts in step). */
  presentation: z.strictObject({ document: MeetingDocument, page: z.number().int() }).optional(),
});
/** To the guest (its own topic): turned away; its token ends. */
export const MeetingRejectedEvent = z.strictObject({ ...base, type: z.literal('meeting.rejected'), meetingId: z.string() });
/** To the meeting (its chat's topic): a guest was let in. */
export const MeetingJoinedEvent = z.strictObject({ ...base, type: z.literal('meeting.joined'), meetingId: z.string(), guest: MeetingGuest });
/** To the meeting and to guests still knocking: it is over; guest tokens end. */
export const MeetingEndedEvent = z.strictObject({ ...base, type: z.literal('meeting.ended'), meetingId: z.string() });
/** To the meeting: the page everyone shows now. */
export const MeetingPageEvent = z.strictObject({
  ...base,
  type: z.literal('meeting.page'),
  meetingId: z.string(),
  document: MeetingDocument,
  page: z.number().int(),
});
/** To the meeting's held polls only (not kept in the log): the presenter's pointer, in page fractions. */
export const MeetingPointerEvent = z.strictObject({
  ...base,
  type: z.literal('meeting.pointer'),
  meetingId: z.string(),
  documentId: z.string(),
  page: z.number().int(),
  x: z.number(),
  y: z.number(),
  from: z.string(),
});
export const MEETING_EVENTS = [
  MeetingKnockEvent,
  MeetingAdmittedEvent,
  MeetingRejectedEvent,
  MeetingJoinedEvent,
  MeetingEndedEvent,
  MeetingPageEvent,
  MeetingPointerEvent,
] as const;
