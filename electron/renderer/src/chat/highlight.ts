/**
 * A search hit's text cut at its highlight ranges (UTF-16 offsets, `end` exclusive) into pieces
 * to render as text, marked or not: the view makes <mark> elements of them, never HTML from the
 * text. Ranges out of order, overlapping or past the end are tolerated (clamped and merged).
 */
export interface Segment {
  text: string;
  mark: boolean;
}

export function segments(text: string, ranges: ReadonlyArray<{ start: number; end: number }>): Segment[] {
  const clean = ranges
    .map((r) => ({ start: Math.max(0, Math.min(r.start, text.length)), end: Math.max(0, Math.min(r.end, text.length)) }))
    .filter((r) => r.end > r.start)
    .sort((a, b) => a.start - b.start);
  const out: Segment[] = [];
  let at = 0;
  for (const r of clean) {
    const start = Math.max(r.start, at);
    if (r.end <= start) continue;
    if (start > at) out.push({ text: text.slice(at, start), mark: false });
    out.push({ text: text.slice(start, r.end), mark: true });
    at = r.end;
  }
  if (at < text.length) out.push({ text: text.slice(at), mark: false });
  return out;
}

/** A long hit shortened around its first match (so the match is seen in a one-line result). */
export function around(text: string, ranges: ReadonlyArray<{ start: number; end: number }>, room = 60): { text: string; ranges: Array<{ start: number; end: number }> } {
  const first = ranges.length ? Math.min(...ranges.map((r) => r.start)) : 0;
  const from = first > room ? first - Math.floor(room / 2) : 0;
  if (from === 0) return { text, ranges: [...ranges] };
  return { text: `…${text.slice(from)}`, ranges: ranges.map((r) => ({ start: r.start - from + 1, end: r.end - from + 1 })) };
}
