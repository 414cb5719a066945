/**
 * The presentation area: the page everyone sees (meeting.page), the presenter's pointer as a dot
 * (meeting.pointer), and for the presenter the documents, an upload, Prev/Next. The presenter's
 * pointer moves are sent at most 8 a second while the mouse is over the page.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { MeetingDocument, PorticoClient } from '../api/index.js';
import { S } from './strings.js';

export interface Shown {
  document: MeetingDocument;
  page: number;
}

const POINTER_MS = 125; // ≤ 8 a second (the server allows 10)

export function Presentation({ client, meetingId, shown, canPresent, onError }: { client: PorticoClient; meetingId: string; shown: Shown | undefined; canPresent: boolean; onError: (message: string) => void }) {
  const [pointer, setPointer] = useState<{ x: number; y: number; from: string; documentId: string; page: number } | undefined>();
  const [documents, setDocuments] = useState<MeetingDocument[]>([]);
  const [busy, setBusy] = useState(false);
  const lastSent = useRef(0);
  const pending = useRef<{ x: number; y: number } | undefined>(undefined);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const me = client.user?.username;

  useEffect(
    () =>
      client.on('meeting.pointer', (e: { meetingId: string; documentId: string; page: number; x: number; y: number; from: string }) => {
        if (e.meetingId !== meetingId) return;
        setPointer({ x: e.x, y: e.y, from: e.from, documentId: e.documentId, page: e.page });
      }),
    [client, meetingId],
  );
  useEffect(() => setPointer(undefined), [shown?.document.id, shown?.page]);
  useEffect(() => {
    if (!canPresent) return;
    client.meetingDocuments(meetingId).then(setDocuments, () => {});
  }, [client, meetingId, canPresent]);
  useEffect(() => () => clearTimeout(timer.current), []);

  const show = (document: MeetingDocument, page: number) => client.present(meetingId, document.id, page).catch((err: Error) => onError(err.message));

  const upload = async (file: File) => {
    setBusy(true);
    try {
      const doc = await client.uploadMeetingDocument(meetingId, file, file.name.slice(0, 120));
      setDocuments((all) => [...all.filter((d) => d.id !== doc.id), doc]);
      await show(doc, 1);
    } catch (err) {
      onError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const flush = () => {
    timer.current = undefined;
    const at = pending.current;
    if (!at) return;
    pending.current = undefined;
    lastSent.current = Date.now();
    client.pointer(meetingId, at.x, at.y).catch(() => {});
  };
  const move = (e: MouseEvent) => {
    if (!canPresent || !shown) return;
    const box = (e.currentTarget as HTMLElement).getBoundingClientRect();
    const x = Math.min(1, Math.max(0, (e.clientX - box.left) / box.width));
    const y = Math.min(1, Math.max(0, (e.clientY - box.top) / box.height));
    pending.current = { x, y };
    if (timer.current) return;
    timer.current = setTimeout(flush, Math.max(0, lastSent.current + POINTER_MS - Date.now()));
  };

  const page = shown?.document.pages[shown.page - 1];
  const count = shown?.document.pages.length ?? 0;
  // The presenter's own pointer is the mouse; others see a dot on the same page only.
  const others = pointer && pointer.from !== me && pointer.documentId === shown?.document.id && pointer.page === shown?.page;

  return (
    <section class="presentation" aria-labelledby="presentation-title">
      <h2 id="presentation-title">{S.presentation}</h2>
      {shown && page ? (
        <>
          <div class="presentation-stage" onMouseMove={move} data-document={shown.document.id} data-page={shown.page}>
            <img
              class="presentation-page"
              src={client.resolveUrl(page.url)}
              width={page.width}
              height={page.height}
              alt={`${shown.document.name}, ${S.pageOf(shown.page, count)}`}
              draggable={false}
            />
            {others && <span class="presentation-pointer" aria-label={S.pointer} role="img" style={{ left: `${pointer.x * 100}%`, top: `${pointer.y * 100}%` }} />}
          </div>
          <div class="presentation-controls">
            {canPresent && (
              <button type="button" class="small presentation-prev" disabled={shown.page <= 1} onClick={() => void show(shown.document, shown.page - 1)}>
                {S.prev}
              </button>
            )}
            <span class="presentation-where" aria-live="polite">
              {S.pageOf(shown.page, count)}
            </span>
            {canPresent && (
              <button type="button" class="small presentation-next" disabled={shown.page >= count} onClick={() => void show(shown.document, shown.page + 1)}>
                {S.next2}
              </button>
            )}
          </div>
        </>
      ) : (
        <p class="hint presentation-none">{S.nothingShown}</p>
      )}
      {canPresent && (
        <div class="presentation-documents">
          {documents.length > 0 && (
            <ul aria-label={S.documents}>
              {documents.map((d) => (
                <li key={d.id}>
                  <button type="button" class="small" aria-pressed={shown?.document.id === d.id} onClick={() => void show(d, 1)}>
                    {S.show}: {d.name} ({S.pages(d.pages.length)})
                  </button>
                </li>
              ))}
            </ul>
          )}
          <label class="presentation-upload">
            <span>{busy ? S.uploading : S.upload}</span>
            <input
              type="file"
              accept="application/pdf,image/png,image/jpeg"
              disabled={busy}
              onChange={(e) => {
                const file = e.currentTarget.files?.[0];
                e.currentTarget.value = '';
                if (file) void upload(file);
              }}
            />
          </label>
        </div>
      )}
    </section>
  );
}
