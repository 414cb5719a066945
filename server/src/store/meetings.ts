/** The meetings part of the Store: meetings, their guests and documents. The rules are meetings/'. */
import type { Message } from '../../../shared/index.js';

export type GuestStatus = 'knocking' | 'admitted' | 'rejected' | 'ended';

export interface MeetingRecord {
  id: string;
  number: string;
  title: string;
  hostId: number;
  hostUsername: string;
  hostDisplayName: string;
  chatId: string;
  fixed: boolean;
  createdAt: number;
  endedAt: number | null;
  presentation: { documentId: string; page: number } | null;
}

export interface GuestRecord {
  id: number;
  meetingId: string;
  name: string;
  address: string;
  status: GuestStatus;
  presenter: boolean;
  createdAt: number;
}

export interface DocumentRecord {
  id: string;
  meetingId: string;
  name: string;
  /** Page image files (names inside the document's directory) and their sizes. */
  pages: Array<{ file: string; width: number; height: number }>;
  createdAt: number;
}

/** Reads outside a write. */
export interface MeetingStore {
  byId(meetingId: string): Promise<MeetingRecord | undefined>;
  liveOfHost(hostId: number): Promise<MeetingRecord[]>;
  /** The guest holding this token (by its SHA-256) and its meeting. */
  guestByTokenHash(tokenHash: Buffer): Promise<{ guest: GuestRecord; meeting: MeetingRecord } | undefined>;
  guestById(guestId: number): Promise<GuestRecord | undefined>;
  documents(meetingId: string): Promise<DocumentRecord[]>;
}

/** Row operations inside a write (StoreTx.meetings). */
export interface MeetingRows {
  get(meetingId: string): Promise<MeetingRecord | undefined>;
  liveByNumber(number: string): Promise<MeetingRecord | undefined>;
  /** The number belongs to a live meeting or is some host's fixed number. */
  numberTaken(number: string): Promise<boolean>;
  /** Whether the chat is a live meeting's chat (open while the meeting lasts). */
  liveMeetingOfChat(chatId: string): Promise<boolean>;
  liveMeetingByChat(chatId: string): Promise<MeetingRecord | undefined>;
  fixedNumberOf(userId: number): Promise<string | undefined>;
  setFixedNumber(userId: number, number: string): Promise<void>;
  insert(input: { number: string; title: string; hostId: number; chatId: string; fixed: boolean; createdAt: number }): Promise<string>;
  end(meetingId: string, at: number): Promise<void>;
  setPresentation(meetingId: string, presentation: { documentId: string; page: number }): Promise<void>;

  insertGuest(input: { meetingId: string; name: string; address: string; tokenHash: Buffer; createdAt: number }): Promise<number>;
  guest(guestId: number): Promise<GuestRecord | undefined>;
  guests(meetingId: string, statuses: GuestStatus[]): Promise<GuestRecord[]>;
  setGuestStatus(guestId: number, status: GuestStatus): Promise<void>;
  setPresenter(guestId: number, presenter: boolean): Promise<void>;
  /** The message a guest sent with this client id, if any. */
  guestMessage(guestId: number, clientId: string): Promise<Message | undefined>;
  rememberGuestMessage(guestId: number, clientId: string, messageId: number): Promise<void>;

  insertDocument(input: DocumentRecord): Promise<void>;
  document(documentId: string): Promise<DocumentRecord | undefined>;
}
