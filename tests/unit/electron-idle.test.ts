import { describe, expect, it } from 'vitest';
import { effectivePresence, IdleTracker, initialIdleState, stepIdle, type IdleInput } from '../../electron/main/idle.js';

const minutes = (n: number): IdleInput => ({ type: 'idle-time', seconds: n * 60 });

describe('idle state machine', () => {
  it('goes away after N minutes idle and comes back on activity', () => {
    const idle = new IdleTracker(5);
    expect(idle.handle(minutes(4))).toEqual({ presence: null, reason: null, pollNow: false });
    expect(idle.handle(minutes(5))).toEqual({ presence: 'away', reason: 'idle', pollNow: false });
    expect(idle.handle(minutes(9))).toEqual({ presence: null, reason: null, pollNow: false }); // no repeat
    expect(idle.handle({ type: 'idle-time', seconds: 2 })).toEqual({ presence: 'available', reason: 'activity', pollNow: false });
    expect(idle.handle({ type: 'idle-time', seconds: 3 }).presence).toBeNull();
  });

  it('follows a changed idle time setting, and ignores nonsense ones', () => {
    const idle = new IdleTracker(5);
    idle.handle({ type: 'idle-minutes', minutes: 1 });
    expect(idle.handle(minutes(1)).presence).toBe('away');
    idle.handle({ type: 'idle-minutes', minutes: 0 });
    expect(idle.state.idleMinutes).toBe(1);
    idle.handle({ type: 'idle-minutes', minutes: 30 });
    expect(idle.handle(minutes(10)).presence).toBe('available'); // 10 min is no longer idle
  });

  it('never overrides a chosen busy or appear-offline, neither by idleness nor by activity', () => {
    for (const chosen of ['busy', 'offline'] as const) {
      const idle = new IdleTracker(5);
      expect(idle.handle({ type: 'choose', state: chosen })).toEqual({ presence: chosen, reason: 'choice', pollNow: false });
      for (const input of [minutes(30), { type: 'lock' }, { type: 'suspend' }, { type: 'resume' }, { type: 'unlock' }, { type: 'idle-time', seconds: 0 }] as IdleInput[]) {
        expect(idle.handle(input).presence, `${chosen} after ${input.type}`).toBeNull();
        expect(idle.state.presence).toBe(chosen);
      }
    }
  });

  it('keeps a manually chosen away through activity (only an automatic away ends by itself)', () => {
    const idle = new IdleTracker(5);
    idle.handle({ type: 'choose', state: 'away' });
    expect(idle.handle({ type: 'idle-time', seconds: 0 }).presence).toBeNull();
    expect(idle.handle(minutes(10)).presence).toBeNull();
    expect(idle.handle({ type: 'idle-time', seconds: 1 }).presence).toBeNull();
    expect(idle.state.presence).toBe('away');
    expect(idle.handle({ type: 'choose', state: 'available' }).presence).toBe('available');
  });

  it('goes away on screen lock, back on unlock, and polls at once after unlock', () => {
    const idle = new IdleTracker(5);
    expect(idle.handle({ type: 'lock' })).toEqual({ presence: 'away', reason: 'lock', pollNow: false });
    expect(idle.handle({ type: 'idle-time', seconds: 0 }).presence).toBeNull(); // still locked
    expect(idle.handle({ type: 'unlock' })).toEqual({ presence: 'available', reason: 'activity', pollNow: true });
  });

  it('goes away on sleep, back on resume, polling at once; stays away if the screen is still locked', () => {
    const idle = new IdleTracker(5);
    expect(idle.handle({ type: 'suspend' })).toEqual({ presence: 'away', reason: 'suspend', pollNow: false });
    expect(idle.handle({ type: 'resume' })).toEqual({ presence: 'available', reason: 'activity', pollNow: true });

    idle.handle({ type: 'lock' });
    idle.handle({ type: 'suspend' });
    expect(idle.handle({ type: 'resume' })).toEqual({ presence: null, reason: null, pollNow: true });
    expect(idle.state.presence).toBe('away');
    expect(idle.handle({ type: 'unlock' }).presence).toBe('available');
  });

  it('polls at once when the network comes back, without touching presence', () => {
    const idle = new IdleTracker(5);
    expect(idle.handle({ type: 'network', online: false })).toEqual({ presence: null, reason: null, pollNow: false });
    expect(idle.handle({ type: 'network', online: true })).toEqual({ presence: null, reason: null, pollNow: true });
  });

  it('a chosen busy survives lock and sleep, and choosing available later while locked gives away', () => {
    const idle = new IdleTracker(5);
    idle.handle({ type: 'choose', state: 'busy' });
    idle.handle({ type: 'lock' });
    expect(idle.state.presence).toBe('busy');
    expect(idle.handle({ type: 'choose', state: 'available' }).presence).toBe('away');
    expect(idle.handle({ type: 'unlock' }).presence).toBe('available');
  });

  it('stepIdle is pure: the old state is left as it was', () => {
    const before = initialIdleState(5);
    const { state } = stepIdle(before, { type: 'lock' });
    expect(before.causes.size).toBe(0);
    expect(before.presence).toBe('available');
    expect(state.causes.has('lock')).toBe(true);
    expect(effectivePresence({ chosen: 'available', causes: new Set(['idle']) })).toBe('away');
    expect(effectivePresence({ chosen: 'busy', causes: new Set(['idle']) })).toBe('busy');
  });

  it('ignores an idle time that is not a number', () => {
    const idle = new IdleTracker(5);
    expect(idle.handle({ type: 'idle-time', seconds: Number.NaN }).presence).toBeNull();
    expect(idle.state.presence).toBe('available');
  });
});
