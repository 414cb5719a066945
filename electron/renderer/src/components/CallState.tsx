/**
 * The call's state in the panel (issue 18; docs/calls.md): "Call in progress — Join" in a chat
 * and in the conversation list, Hold / Resume, Transfer… and Add people… in the call, and what
 * the other side sees (On hold, Transferring…). The logic is in calls/manager.ts and model.ts.
 */
import { useState } from 'preact/hooks';
import type { Call, Chat } from '../api/client.js';
import { consulting, type CallView, type Phone } from '../calls/manager.js';
import { joinNames, t } from '../i18n.js';
import { Icon } from './Icon.js';

interface Person {
  username: string;
  displayName: string;
  /** Takes part in the call's chat: rung at once (else invited into the chat first). */
  inChat?: boolean;
}

/** Whom the call's Add people… offers: those taking part in its chat first, then my contacts. */
export function callPeople(contacts: Person[], chat: Chat | undefined): Person[] {
  const members = (chat?.members ?? []).filter((m) => m.status === 'accepted').map((m) => ({ username: m.username, displayName: m.displayName, inChat: true }));
  const known = new Set(members.map((m) => m.username.toLowerCase()));
  return [...members, ...contacts.filter((c) => !known.has(c.username.toLowerCase())).map((c) => ({ username: c.username, displayName: c.displayName }))];
}

const joinedOthers = (call: Call, me: string) => call.members.filter((m) => m.state === 'joined' && m.username.toLowerCase() !== me.toLowerCase());

/** A call runs in this chat and I am not in it. */
export function liveCallFor(chat: Chat | undefined, me: string): Call | undefined {
  const call = chat?.call;
  if (!call || call.state === 'ended') return undefined;
  const mine = call.members.find((m) => m.username.toLowerCase() === me.toLowerCase())?.state;
  return mine === 'joined' ? undefined : call;
}

/** The bar above a chat's history: "Call in progress with … — Join". */
export function JoinCallBar({ chat, me, onJoin }: { chat: Chat; me: string; onJoin: () => Promise<unknown> }) {
  const [busy, setBusy] = useState(false);
  const call = liveCallFor(chat, me);
  if (!call) return null;
  const names = joinNames(joinedOthers(call, me).map((m) => m.displayName));
  return (
    <div class="call-live-bar" role="status" data-call={call.id}>
      <span class="call-live-pulse" aria-hidden="true" />
      <Icon name={call.video ? 'video' : 'phone'} size={16} />
      <span class="call-live-text">{names ? t('callLiveWith', { names }) : t('callLive')}</span>
      <button
        type="button"
        class="small primary call-join"
        disabled={busy || call.heldBy !== undefined || call.transfer !== undefined}
        onClick={() => {
          setBusy(true);
          void onJoin().finally(() => setBusy(false));
        }}
      >
        {t('joinCall')}
      </button>
    </div>
  );
}

/** The conversation list's sign that a call runs in a chat. */
export function LiveCallBadge({ chat, me }: { chat: Chat; me: string }) {
  if (!chat.call || chat.call.state === 'ended') return null;
  const inIt = chat.call.members.some((m) => m.username.toLowerCase() === me.toLowerCase() && m.state === 'joined');
  return (
    <span class="conv-call" data-joined={inIt} title={t('callLive')}>
      <Icon name={chat.call.video ? 'video' : 'phone'} size={14} />
      <span class="visually-hidden">{t('callLive')}</span>
    </span>
  );
}

/** What the call's state says over the videos: on hold (by whom), a transfer ringing. */
export function CallStateNote({ phone, view }: { phone: Phone; view: CallView }) {
  const { call } = view;
  if (consulting(call, phone.me)) {
    // Warm transfer: the transferor and the colleague talk; the transferor hands over by hanging up.
    if (call.transfer!.from.toLowerCase() !== phone.me) return null;
    return (
      <p class="call-consult" role="status">
        <span>{t('consulting', { name: call.transfer!.toName })}</span>
        <button type="button" class="small primary call-complete-transfer" onClick={() => void phone.hangUp()}>
          {t('completeTransfer')}
        </button>
      </p>
    );
  }
  if (call.transfer && call.transfer.from.toLowerCase() === phone.me) {
    return (
      <p class="call-note call-transferring" role="status">
        {t('transferring', { name: call.transfer.toName })}
      </p>
    );
  }
  if (!call.heldBy) return null;
  const mine = call.heldBy.toLowerCase() === phone.me;
  const by = call.members.find((m) => m.username === call.heldBy)?.displayName ?? call.heldBy;
  return (
    <p class="call-note call-on-hold" role="status" data-held-by={call.heldBy}>
      <strong>{t('onHold')}</strong>
      <span>{mine ? t('youHeld') : t('onHoldBy', { name: by })}</span>
    </p>
  );
}

type Picker = 'transfer' | 'add' | undefined;
/** A chat's history sharing: what people added later read. */
export type History = Chat['history'];
/** Adds people to the call (chat members rung, others invited into the chat); answers why not. */
export type AddPeople = (chatId: string, usernames: string[], history?: History) => Promise<string | undefined>;

/** Hold / Resume, Transfer… and Add people… (buttons of the call's control row, and their pickers). */
/** What a picker holds while it is open: kept across a new mount of the call view. */
interface PickerDraft {
  selected?: string[];
  history?: History;
  to?: string;
  reason?: string;
  warm?: boolean;
}
/**
 * The picker open in a call's controls and what is chosen in it, by call id: crossing the wide
 * layout's width moves the call view between the column and the main pane (a new mount), and the
 * picker opens again there as it was.
 */
const openPickers = new Map<string, { kind: Exclude<Picker, undefined>; draft: PickerDraft }>();

export function CallStateControls({
  phone,
  view,
  people,
  history,
  onAddPeople,
}: {
  phone: Phone;
  view: CallView;
  /** Whom I may pick (my contacts). */
  people: Person[];
  history?: History | undefined;
  onAddPeople?: AddPeople | undefined;
}) {
  const { call } = view;
  const [picker, setOpen] = useState<Picker>(() => openPickers.get(call.id)?.kind);
  const setPicker = (next: Picker) => {
    if (next) openPickers.set(call.id, { kind: next, draft: {} });
    else openPickers.delete(call.id);
    setOpen(next);
  };
  const draft = openPickers.get(call.id)?.draft ?? {};
  const others = joinedOthers(call, phone.me);
  const ofTwo = others.length === 1 && call.state === 'active' && !call.members.some((m) => m.state === 'ringing' && m.username !== call.transfer?.to);
  const heldByMe = call.heldBy?.toLowerCase() === phone.me;
  const inCall = new Set(call.members.filter((m) => m.state === 'joined' || m.state === 'ringing').map((m) => m.username.toLowerCase()));
  const candidates = people.filter((p) => !inCall.has(p.username.toLowerCase()) && p.username.toLowerCase() !== phone.me);
  return (
    <>
      {ofTwo && (call.heldBy === undefined || heldByMe) && (
        <button
          type="button"
          class="small call-hold"
          aria-pressed={call.heldBy !== undefined}
          disabled={!view.local || call.transfer !== undefined}
          onClick={() => void phone.hold(call.heldBy === undefined)}
        >
          <Icon name={call.heldBy ? 'play' : 'pause'} size={14} /> {call.heldBy ? t('resume') : t('hold')}
        </button>
      )}
      {ofTwo && (
        <button type="button" class="small call-transfer" aria-expanded={picker === 'transfer'} disabled={call.transfer !== undefined || (call.heldBy !== undefined && !heldByMe)} onClick={() => setPicker(picker === 'transfer' ? undefined : 'transfer')}>
          {t('transfer')}
        </button>
      )}
      {onAddPeople && (
        <button type="button" class="small call-add" aria-expanded={picker === 'add'} onClick={() => setPicker(picker === 'add' ? undefined : 'add')}>
          <Icon name="plus" size={14} /> {t('addToChat')}
        </button>
      )}
      {picker === 'transfer' && (
        <TransferPicker
          draft={draft}
          people={candidates}
          onCancel={() => setPicker(undefined)}
          onTransfer={async (to, reason, warm) => {
            await phone.transfer(to, reason, warm);
            setPicker(undefined);
          }}
        />
      )}
      {picker === 'add' && onAddPeople && (
        <AddPeoplePicker
          draft={draft}
          people={candidates}
          history={history ?? 'all'}
          onCancel={() => setPicker(undefined)}
          onAdd={async (usernames, chosen) => {
            const problem = await onAddPeople(call.chatId, usernames, chosen);
            if (!problem) setPicker(undefined);
          }}
        />
      )}
    </>
  );
}

/** A picker's state, also written to its draft (so a new mount starts where this one was). */
function useKept<K extends keyof PickerDraft, T extends PickerDraft[K]>(draft: PickerDraft, key: K, initial: T): readonly [T, (next: T) => void] {
  const [value, setValue] = useState<T>(() => (draft[key] as T | undefined) ?? initial);
  const set = (next: T) => {
    draft[key] = next;
    setValue(next);
  };
  return [value, set] as const;
}

function PersonList({ people, selected, multiple, onToggle }: { people: Person[]; selected: Set<string>; multiple: boolean; onToggle: (username: string) => void }) {
  return (
    <div class="people-pick" role={multiple ? 'group' : 'radiogroup'} aria-label={t('pickPeople')}>
      {people.map((p) => (
        <div key={p.username}>
          <label>
            <input type={multiple ? 'checkbox' : 'radio'} name="call-people" value={p.username} checked={selected.has(p.username)} onChange={() => onToggle(p.username)} />
            <span class="people-pick-name">{p.displayName}</span>
            <span class="people-pick-user">{p.inChat ? `${p.username} · ${t('inThisChat')}` : p.username}</span>
          </label>
        </div>
      ))}
    </div>
  );
}

function TransferPicker({
  people,
  draft = {},
  onTransfer,
  onCancel,
}: {
  people: Person[];
  draft?: PickerDraft;
  onTransfer: (to: string, reason: string | undefined, warm: boolean) => Promise<void>;
  onCancel: () => void;
}) {
  const [to, setTo] = useKept<'to', string | undefined>(draft, 'to', undefined);
  const [warm, setWarm] = useKept<'warm', boolean>(draft, 'warm', false);
  const [reason, setReason] = useKept<'reason', string>(draft, 'reason', '');
  const [error, setError] = useState<string | undefined>(undefined);
  return (
    <form
      class="call-picker call-transfer-picker"
      aria-label={t('transferTo')}
      onSubmit={(e) => {
        e.preventDefault();
        if (!to) return;
        setError(undefined);
        onTransfer(to, reason.trim() || undefined, warm).catch((err: Error) => setError(err.message));
      }}
    >
      <h3>{t('transferTo')}</h3>
      <PersonList people={people} selected={new Set(to ? [to] : [])} multiple={false} onToggle={setTo} />
      <label class="call-picker-reason">
        {t('transferReason')}
        <input type="text" maxLength={200} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
      </label>
      <label class="call-picker-warm">
        <input type="checkbox" checked={warm} onChange={(e) => setWarm(e.currentTarget.checked)} />
        {t('transferWarm')}
      </label>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="call-picker-actions">
        <button type="submit" class="small primary call-transfer-go" disabled={!to}>
          {t('transferStart')}
        </button>
        <button type="button" class="small" onClick={onCancel}>
          {t('cancel')}
        </button>
      </div>
    </form>
  );
}

/** Add people…: in a call (members of its chat are rung, others invited) and in a chat's header (all invited). */
export function AddPeoplePicker({
  people,
  history: initial,
  hint = t('addPeopleHint'),
  class: extra = 'call-add-picker',
  draft = {},
  onAdd,
  onCancel,
}: {
  people: Person[];
  history: History;
  hint?: string;
  class?: string;
  draft?: PickerDraft;
  onAdd: (usernames: string[], history: History) => Promise<void>;
  onCancel: () => void;
}) {
  const [chosen, setChosen] = useKept<'selected', string[]>(draft, 'selected', []);
  const selected = new Set(chosen);
  const setSelected = (next: Set<string>) => setChosen([...next]);
  const [history, setHistory] = useKept<'history', History>(draft, 'history', initial);
  // Only those invited into the chat read its history from the start or not (members read it already).
  const inviting = people.some((p) => selected.has(p.username) && !p.inChat);
  return (
    <form
      class={`call-picker ${extra}`}
      aria-label={t('addPeopleTitle')}
      onSubmit={(e) => {
        e.preventDefault();
        if (selected.size > 0) void onAdd([...selected], history);
      }}
    >
      <h3>{t('addPeopleTitle')}</h3>
      <p class="call-picker-hint">{hint}</p>
      <PersonList
        people={people}
        selected={selected}
        multiple
        onToggle={(u) => {
          const next = new Set(selected);
          if (next.has(u)) next.delete(u);
          else next.add(u);
          setSelected(next);
        }}
      />
      {people.length === 0 && <p class="call-picker-hint">{t('addPeopleNone')}</p>}
      {inviting && (
        <fieldset class="call-picker-history">
          <legend>{t('historyLegend')}</legend>
          {(['all', 'since_added'] as const).map((h) => (
            <label key={h}>
              <input type="radio" name="call-add-history" value={h} checked={history === h} onChange={() => setHistory(h)} />
              {t(h === 'all' ? 'historyAll' : 'historySinceAdded')}
            </label>
          ))}
        </fieldset>
      )}
      <div class="call-picker-actions">
        <button type="submit" class="small primary call-add-go" disabled={selected.size === 0}>
          {t('addToChat').replace('…', '')}
        </button>
        <button type="button" class="small" onClick={onCancel}>
          {t('cancel')}
        </button>
      </div>
    </form>
  );
}

/** The ring of a transfer: who transfers whom to me, and why. */
export function TransferRingText({ call, me }: { call: Call; me: string }) {
  const transfer = call.transfer;
  if (!transfer) return null;
  const names = joinNames(call.members.filter((m) => m.state === 'joined' && m.username !== transfer.from && m.username.toLowerCase() !== me.toLowerCase()).map((m) => m.displayName));
  return (
    <>
      {t('incomingTransfer', { from: transfer.fromName, names })}
      {transfer.reason && <span class="transfer-reason"> {t('transferWhy', { reason: transfer.reason })}</span>}
    </>
  );
}
