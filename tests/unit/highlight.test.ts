import { describe, expect, it } from 'vitest';
import { around, segments } from '../../electron/renderer/src/chat/highlight.js';

describe('search highlights to segments', () => {
  it('cuts the text at the ranges', () => {
    expect(segments('the budget for 2027', [{ start: 4, end: 10 }])).toEqual([
      { text: 'the ', mark: false },
      { text: 'budget', mark: true },
      { text: ' for 2027', mark: false },
    ]);
    expect(segments('ab', [{ start: 0, end: 2 }])).toEqual([{ text: 'ab', mark: true }]);
    expect(segments('abc', [])).toEqual([{ text: 'abc', mark: false }]);
  });

  it('tolerates ranges out of order, overlapping or past the end', () => {
    expect(segments('abcdef', [{ start: 3, end: 5 }, { start: 0, end: 1 }, { start: 4, end: 99 }])).toEqual([
      { text: 'a', mark: true },
      { text: 'bc', mark: false },
      { text: 'de', mark: true },
      { text: 'f', mark: true },
    ]);
    expect(segments('abc', [{ start: 5, end: 9 }, { start: 2, end: 1 }])).toEqual([{ text: 'abc', mark: false }]);
  });

  it('keeps HTML as text (the view renders segments as text)', () => {
    const parts = segments('<img src=x onerror=alert(1)> hi', [{ start: 29, end: 31 }]);
    expect(parts.map((p) => p.text).join('')).toBe('<img src=x onerror=alert(1)> hi');
  });

  it('shortens a long hit around its first match', () => {
    const text = `${'x'.repeat(100)}needle${'y'.repeat(10)}`;
    const cut = around(text, [{ start: 100, end: 106 }]);
    expect(cut.text.startsWith('…')).toBe(true);
    expect(cut.text.slice(cut.ranges[0]!.start, cut.ranges[0]!.end)).toBe('needle');
  });
});
