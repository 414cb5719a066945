/**
 * The shell's side of issue 17, as plain modules: the tray's look from presence, unread and
 * do-not-disturb (and its drawing), where a notification click leads, and the panel's helpers for
 * pictures, statuses and expiries.
 */
import { describe, expect, it } from 'vitest';
import { PRESENCE_COLOURS, trayBitmap } from '../../electron/main/icon.js';
import { text } from '../../electron/main/text.js';
import { trayLook, trayTooltip } from '../../electron/main/tray-look.js';
import { notificationRoute } from '../../electron/renderer/src/notification-route.js';
import { avatarHue, initials, nextExpiry, presetUntil, tomorrowMorning, visibleStatus } from '../../electron/renderer/src/people-view.js';

const NOW = Date.parse('2026-03-02T10:00:00Z');
const LATER = '2026-03-02T11:00:00.000Z';
const EARLIER = '2026-03-02T09:00:00.000Z';

describe('tray look', () => {
  it('shows the presence and the unread dot when do-not-disturb is off or has run out', () => {
    expect(trayLook({ presence: 'available', unread: 0, dndUntil: null, now: NOW })).toEqual({ disc: 'available', dnd: false, badge: false, changesAt: undefined });
    expect(trayLook({ presence: 'away', unread: 2, dndUntil: EARLIER, now: NOW })).toEqual({ disc: 'away', dnd: false, badge: true, changesAt: undefined });
  });

  it('while do-not-disturb runs: a red disc with the bar, and a change due when it runs out', () => {
    expect(trayLook({ presence: 'available', unread: 3, dndUntil: LATER, now: NOW })).toEqual({ disc: 'busy', dnd: true, badge: true, changesAt: Date.parse(LATER) });
    // Appearing offline is not overridden (DND is about notifications, not visibility); the expiry still re-draws.
    expect(trayLook({ presence: 'offline', unread: 0, dndUntil: LATER, now: NOW })).toMatchObject({ disc: 'offline', dnd: false });
  });

  it('says it in the tooltip, in English and Japanese', () => {
    const time = () => '11:00';
    expect(trayTooltip({ presence: 'available', unread: 3, dndUntil: LATER, now: NOW }, text('en'), time)).toBe('Portico: Available, do not disturb until 11:00, 3 unread');
    expect(trayTooltip({ presence: 'busy', unread: 0, dndUntil: null, now: NOW }, text('en'), time)).toBe('Portico: Busy');
    expect(trayTooltip({ presence: 'busy', unread: 1, dndUntil: LATER, now: NOW }, text('ja'), time)).toBe('Portico: 取り込み中, 11:00 まで通知を停止中, 未読 1 件');
  });

  it('draws the bar white across the disc only with do-not-disturb', () => {
    const pixel = (buffer: Buffer, x: number, y: number) => {
      const i = (y * 32 + x) * 4;
      return { b: buffer[i]!, g: buffer[i + 1]!, r: buffer[i + 2]!, a: buffer[i + 3]! };
    };
    const [r, g, b] = PRESENCE_COLOURS.busy;
    expect(pixel(trayBitmap('busy', 0, 32), 16, 16)).toEqual({ r, g, b, a: 255 });
    expect(pixel(trayBitmap('busy', 0, 32, true), 16, 16)).toEqual({ r: 255, g: 255, b: 255, a: 255 });
    // Above the bar, the disc's red stays.
    expect(pixel(trayBitmap('busy', 0, 32, true), 16, 9)).toEqual({ r, g, b, a: 255 });
  });
});

describe('notification routes', () => {
  it('a click on a message notification opens its chat', () => {
    expect(notificationRoute({ tag: 'chat-c1', action: 'click' })).toEqual({ kind: 'open-chat', chatId: 'c1' });
  });
  it('request and call buttons answer them; a click on those opens nothing', () => {
    expect(notificationRoute({ tag: 'chat-request-c2', action: 'accept' })).toEqual({ kind: 'request', chatId: 'c2', answer: 'accept' });
    expect(notificationRoute({ tag: 'chat-request-c2', action: 'decline' })).toEqual({ kind: 'request', chatId: 'c2', answer: 'decline' });
    expect(notificationRoute({ tag: 'chat-request-c2', action: 'click' })).toBeUndefined();
    expect(notificationRoute({ tag: 'call-k9', action: 'accept' })).toEqual({ kind: 'call', callId: 'k9', answer: 'accept' });
    expect(notificationRoute({ tag: 'call-k9', action: 'click' })).toBeUndefined();
  });
  it('an unknown tag leads nowhere', () => {
    expect(notificationRoute({ tag: 'ticker-1', action: 'click' })).toBeUndefined();
    expect(notificationRoute({ tag: 'chat-c1', action: 'accept' })).toBeUndefined();
  });
});

describe('people in the panel', () => {
  it('initials from the first and last words, else the username', () => {
    expect(initials('Alice Adams')).toBe('AA');
    expect(initials('Carol Anne Chen')).toBe('CC');
    expect(initials('bob')).toBe('B');
    expect(initials('  ', 'dave')).toBe('D');
    expect(initials('山田 太郎')).toBe('山太');
  });
  it('a colour per user, the same whatever the case, in range', () => {
    expect(avatarHue('Alice')).toBe(avatarHue('alice'));
    for (const u of ['alice', 'bob', 'carol', 'x']) {
      expect(avatarHue(u)).toBeGreaterThanOrEqual(0);
      expect(avatarHue(u)).toBeLessThan(360);
    }
    expect(new Set(['alice', 'bob', 'carol', 'dave', 'erin'].map(avatarHue)).size).toBeGreaterThan(1);
  });
  it('a status shows until its expiry and not after', () => {
    expect(visibleStatus({ text: 'Lunch', until: LATER }, NOW)).toEqual({ text: 'Lunch', until: LATER });
    expect(visibleStatus({ text: 'Lunch', until: EARLIER }, NOW)).toBeUndefined();
    expect(visibleStatus({ text: 'Here' }, NOW)).toEqual({ text: 'Here' });
    expect(visibleStatus(null, NOW)).toBeUndefined();
    expect(nextExpiry([{ text: 'a', until: LATER }, { text: 'b', until: EARLIER }, undefined, { text: 'c' }], NOW)).toBe(Date.parse(LATER));
  });
  it('expiry presets: 30 min, 1 h, end of today, a time (tomorrow once passed), none', () => {
    const now = new Date(2026, 2, 2, 14, 20);
    expect(presetUntil('30m', now)?.getTime()).toBe(now.getTime() + 30 * 60_000);
    expect(presetUntil('1h', now)?.getTime()).toBe(now.getTime() + 3_600_000);
    expect(presetUntil('today', now)).toEqual(new Date(2026, 2, 2, 23, 59));
    expect(presetUntil('custom', now, '15:00')).toEqual(new Date(2026, 2, 2, 15, 0));
    expect(presetUntil('custom', now, '09:00')).toEqual(new Date(2026, 2, 3, 9, 0));
    expect(presetUntil('custom', now, '25:00')).toBeUndefined();
    expect(presetUntil('none', now)).toBeUndefined();
    expect(tomorrowMorning(now)).toEqual(new Date(2026, 2, 3, 8, 0));
  });
});
