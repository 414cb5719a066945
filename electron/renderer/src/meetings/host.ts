/**
 * The host's meetings, as a small store the panel's views share (the Meetings section in the
 * column, the meeting itself in the wide pane or inline): the live meetings, the guests knocking,
 * and per meeting who was let in and the page shown. It follows the host's events; no DOM.
 */
import type { KnockingGuest, Meeting, MeetingDocument, MeetingGuest, PorticoClient } from '../api/index.js';
import type { Shown } from './Presentation.js';

export interface Knock {
  meetingId: string;
  guest: KnockingGuest;
}

export interface HostState {
  meetings: Meeting[];
  knocks: Knock[];
  guests: Record<string, MeetingGuest[]>;
  shown: Record<string, Shown>;
}

export class HostMeetings {
  state: HostState = { meetings: [], knocks: [], guests: {}, shown: {} };
  private readonly listeners = new Set<() => void>();
  private offs: Array<() => void> = [];

  constructor(
    readonly client: PorticoClient,
    private readonly onKnock: (knock: Knock) => void,
  ) {}

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(patch: Partial<HostState>) {
    this.state = { ...this.state, ...patch };
    for (const l of [...this.listeners]) l();
  }

  attach() {
    const c = this.client;
    void this.load();
    this.offs.push(
      c.on('meeting.knock', (e: Knock) => {
        if (this.state.knocks.some((k) => k.guest.id === e.guest.id)) return;
        this.set({ knocks: [...this.state.knocks, { meetingId: e.meetingId, guest: e.guest }] });
        this.onKnock(e);
      }),
      c.on('meeting.joined', (e: { meetingId: string; guest: MeetingGuest }) => {
        const now = this.state.guests[e.meetingId] ?? [];
        if (!now.some((g) => g.id === e.guest.id)) this.set({ guests: { ...this.state.guests, [e.meetingId]: [...now, e.guest] } });
      }),
      c.on('meeting.page', (e: { meetingId: string; document: MeetingDocument; page: number }) => {
        this.set({ shown: { ...this.state.shown, [e.meetingId]: { document: e.document, page: e.page } } });
      }),
      c.on('meeting.ended', (e: { meetingId: string }) => this.gone(e.meetingId)),
      c.on('reset', () => void this.load()),
    );
  }

  detach() {
    for (const off of this.offs.splice(0)) off();
  }

  private async load() {
    try {
      this.set({ meetings: await this.client.meetings() });
    } catch {
      /* offline: the next reset loads them */
    }
  }

  private gone(meetingId: string) {
    this.set({
      meetings: this.state.meetings.filter((m) => m.id !== meetingId),
      knocks: this.state.knocks.filter((k) => k.meetingId !== meetingId),
    });
  }

  async create(title: string | undefined, fixed: boolean): Promise<void> {
    const meeting = await this.client.createMeeting(title, fixed);
    // A new fixed meeting ends the previous one on that number.
    this.set({ meetings: [...this.state.meetings.filter((m) => m.id !== meeting.id && m.number !== meeting.number), meeting] });
  }

  async answer(knock: Knock, admit: boolean): Promise<void> {
    this.set({ knocks: this.state.knocks.filter((k) => k.guest.id !== knock.guest.id) });
    if (admit) await this.client.admitGuest(knock.meetingId, knock.guest.id);
    else await this.client.rejectGuest(knock.meetingId, knock.guest.id);
  }

  async end(meetingId: string): Promise<void> {
    await this.client.endMeeting(meetingId);
    this.gone(meetingId);
  }
}
