/** The bench's quiet clients take a poll answer's own cursor without parsing it (bench/load/clients.ts). */
import { describe, expect, it } from 'vitest';
import { answerCursor } from '../../bench/load/clients.js';

describe('answerCursor', () => {
  it('is the answer’s cursor, not its first event’s', () => {
    const answer = JSON.stringify({ events: [{ cursor: '11', type: 'chat.message' }, { cursor: '12', type: 'chat.message' }], cursor: '12' });
    expect(answerCursor(answer)).toBe(JSON.parse(answer).cursor);
    expect(answerCursor('{"events":[{"cursor":"7","type":"presence"}],"cursor":"9"}')).toBe('9');
    expect(answerCursor('{"reset":true,"cursor":"40"}')).toBe('40');
    expect(answerCursor('{"events":[],"cursor":"3"}')).toBe('3');
  });
  it('refuses an answer without one', () => {
    expect(() => answerCursor('{"events":[]}')).toThrow(/without a cursor/);
  });
});
