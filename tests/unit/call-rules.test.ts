import { describe, expect, it } from 'vitest';
import { callRecord, endReasonAfter, formatDuration } from '../../server/src/calls/rules.js';

const m = (...states: string[]) => states.map((state, i) => ({ caller: i === 0, state: state as any }));

describe('when a call ends', () => {
  it('goes on while two are joined, or one joined waits for someone ringing', () => {
    expect(endReasonAfter(m('joined', 'joined'), true, 'accept')).toBeUndefined();
    expect(endReasonAfter(m('joined', 'ringing', 'declined'), false, 'decline')).toBeUndefined();
    expect(endReasonAfter(m('left', 'joined', 'ringing'), true, 'hangup')).toBeUndefined();
    expect(endReasonAfter(m('joined', 'joined', 'left'), true, 'hangup')).toBeUndefined();
  });

  it('ends on a hang-up that leaves one (1:1: for both), or a caller cancelling a ring', () => {
    expect(endReasonAfter(m('joined', 'left'), true, 'hangup')).toBe('hangup');
    expect(endReasonAfter(m('left', 'joined'), true, 'hangup')).toBe('hangup');
    expect(endReasonAfter(m('left', 'ringing'), false, 'hangup')).toBe('hangup');
  });

  it('is declined when every callee declined before anyone answered', () => {
    expect(endReasonAfter(m('joined', 'declined'), false, 'decline')).toBe('declined');
    expect(endReasonAfter(m('joined', 'declined', 'declined'), false, 'decline')).toBe('declined');
  });

  it('is missed when the ring times out unanswered, also if some declined', () => {
    expect(endReasonAfter(m('joined', 'missed'), false, 'timeout')).toBe('missed');
    expect(endReasonAfter(m('joined', 'declined', 'missed'), false, 'timeout')).toBe('missed');
    // Answered earlier: a time-out of the last ringing member leaves a call of one, which ends.
    expect(endReasonAfter(m('joined', 'left', 'missed'), true, 'timeout')).toBe('hangup');
  });
});

describe('the chat line recording a call', () => {
  it('says missed, declined, or how long it lasted', () => {
    expect(callRecord('c', true, undefined, 1000, 'missed')).toEqual({ call: { id: 'c', outcome: 'missed' }, text: 'Missed video call' });
    expect(callRecord('c', false, undefined, 1000, 'hangup')).toEqual({ call: { id: 'c', outcome: 'missed' }, text: 'Missed call' });
    expect(callRecord('c', true, undefined, 1000, 'declined')).toEqual({ call: { id: 'c', outcome: 'declined' }, text: 'Declined video call' });
    expect(callRecord('c', true, 0, 185_400, 'hangup')).toEqual({
      call: { id: 'c', outcome: 'completed', durationSeconds: 185 },
      text: 'Video call, 3 min 5 s',
    });
    expect(callRecord('c', false, 0, 42_000, 'hangup').text).toBe('Call, 42 s');
    expect(formatDuration(3 * 3600 + 120 + 5)).toBe('3 h 2 min');
  });
});
