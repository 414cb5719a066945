import { describe, expect, it } from 'vitest';
import { IPC_SCHEMAS, isInvokeChannel, validateIpc } from '../../electron/main/ipc.js';
import { INVOKE, type InvokeChannel } from '../../electron/preload/bridge.js';

const SERVER = 'https://portico.example.com';
const APP = 'https://portico.example.com/app/';
const CHAT = '3f2b8c1e-4d5a-4e6f-8a7b-9c0d1e2f3a4b';

function ok(channel: InvokeChannel, payload: unknown, options = {}) {
  const result = validateIpc(channel, APP, payload, SERVER, options);
  if (!result.ok) throw new Error(`expected ${channel} to pass: ${result.error}`);
  return result.payload;
}
function refused(channel: InvokeChannel, payload: unknown, options = {}, sender = APP): string {
  const result = validateIpc(channel, sender, payload, SERVER, options);
  if (result.ok) throw new Error(`expected ${channel} ${JSON.stringify(payload)} to be refused`);
  return result.error;
}

describe('IPC channels', () => {
  it('has a schema for every channel of the bridge, and nothing else', () => {
    expect(Object.keys(IPC_SCHEMAS).sort()).toEqual(Object.values(INVOKE).sort());
    expect(Object.values(INVOKE).sort()).toEqual(['client-info', 'display-picker', 'display-source-chosen', 'dnd-changed', 'get-config', 'notify', 'open-chat', 'open-external', 'presence-changed', 'quit', 'set-badge', 'set-setting', 'sso-sign-in']);
    expect(isInvokeChannel('open-external')).toBe(true);
    expect(isInvokeChannel('toString')).toBe(false);
    expect(isInvokeChannel('__proto__')).toBe(false);
  });

  it('refuses unknown channels', () => {
    expect(validateIpc('exec' as InvokeChannel, APP, {}, SERVER)).toEqual({ ok: false, error: 'unknown channel "exec"' });
  });
});

describe('sender checks', () => {
  it('accepts the top frame of the app on the configured server (any page or route under /app/)', () => {
    expect(validateIpc('get-config', APP, undefined, SERVER).ok).toBe(true);
    expect(validateIpc('get-config', `${APP}#/chat/${CHAT}`, undefined, SERVER).ok).toBe(true);
    expect(validateIpc('get-config', APP, undefined, SERVER, { isMainFrame: true }).ok).toBe(true);
  });

  it('refuses other origins, other paths, local pages, sub-frames, and a missing server', () => {
    for (const sender of [
      'https://evil.net/app/',
      'https://portico.example.com/api/v1/media/game/index.html',
      'https://portico.example.com/',
      'http://portico.example.com/app/',
      'https://portico.example.com:444/app/',
      'file:///app/index.html',
      'data:text/html,x',
      'about:blank',
      '',
      undefined,
    ]) {
      const result = validateIpc('get-config', sender, undefined, SERVER);
      expect(result.ok, String(sender)).toBe(false);
      expect(!result.ok && result.error).toMatch(/^get-config: refused from/);
    }
    expect(refused('get-config', undefined, { isMainFrame: false })).toBe('get-config: refused from a sub-frame');
    expect(validateIpc('get-config', APP, undefined, undefined).ok).toBe(false);
  });
});

describe('payload schemas', () => {
  it('open-external: only safe URLs, passed on normalised', () => {
    expect(ok('open-external', { url: 'HTTPS://Example.COM/a%20b' })).toEqual({ url: 'https://example.com/a%20b' });
    expect(ok('open-external', { url: 'mailto:bob@example.com' })).toEqual({ url: 'mailto:bob@example.com' });
    for (const url of ['javascript:alert(1)', 'file:///C:/Windows/System32/calc.exe', 'https://u:p@example.com/', 'x'.repeat(3000), 42]) {
      expect(refused('open-external', { url })).toMatch(/^open-external: /);
    }
    expect(refused('open-external', 'https://example.com/')).toMatch(/^open-external: /);
    expect(refused('open-external', { url: 'https://example.com/', extra: 1 })).toMatch(/^open-external: /);
  });

  it('notify: title, body, tag, accept/decline actions', () => {
    const request = { title: 'Chat request', body: 'Bob wants to chat', tag: `chat-${CHAT}`, actions: ['accept', 'decline'] };
    expect(ok('notify', request)).toEqual(request);
    expect(ok('notify', { title: 'Hi', tag: 't' })).toEqual({ title: 'Hi', tag: 't' });
    expect(refused('notify', { title: '', tag: 't' })).toMatch(/title/);
    expect(refused('notify', { title: '   ', tag: 't' })).toMatch(/title/);
    expect(refused('notify', { title: 'x', tag: '' })).toMatch(/tag/);
    expect(refused('notify', { title: 'x'.repeat(201), tag: 't' })).toMatch(/title/);
    expect(refused('notify', { title: 'x', body: 'y'.repeat(1001), tag: 't' })).toMatch(/body/);
    expect(refused('notify', { title: 'x', tag: 't', actions: ['delete'] })).toMatch(/actions/);
    expect(refused('notify', { title: 'x', tag: 't', actions: ['accept', 'accept'] })).toMatch(/must not repeat/);
    expect(refused('notify', { title: 'x', tag: 't', icon: 'file:///etc/passwd' })).toMatch(/icon/);
  });

  it('set-badge: a whole count from 0', () => {
    expect(ok('set-badge', { count: 0 })).toEqual({ count: 0 });
    expect(ok('set-badge', { count: 12 })).toEqual({ count: 12 });
    for (const count of [-1, 1.5, '3', Number.NaN, Infinity, 100_000]) expect(refused('set-badge', { count })).toMatch(/count/);
  });

  it('dnd-changed: an ISO time or null', () => {
    expect(ok('dnd-changed', { until: '2030-01-01T08:00:00.000Z' })).toEqual({ until: '2030-01-01T08:00:00.000Z' });
    expect(ok('dnd-changed', { until: null })).toEqual({ until: null });
    expect(refused('dnd-changed', { until: 'tomorrow' })).toMatch(/until/);
    expect(refused('dnd-changed', {})).toMatch(/until/);
  });

  it('presence-changed: a presence state and who chose it', () => {
    expect(ok('presence-changed', { state: 'busy', byUser: true })).toEqual({ state: 'busy', byUser: true });
    expect(refused('presence-changed', { state: 'dnd', byUser: true })).toMatch(/state/);
    expect(refused('presence-changed', { state: 'away' })).toMatch(/byUser/);
  });

  it('get-config and quit take no payload', () => {
    expect(ok('get-config', undefined)).toBeUndefined();
    expect(ok('quit', undefined)).toBeUndefined();
    expect(refused('quit', { now: true })).toMatch(/takes no payload/);
    expect(refused('get-config', null)).toMatch(/takes no payload/);
  });

  it('client-info: no payload, only from the app on the configured server', () => {
    expect(ok('client-info', undefined)).toBeUndefined();
    expect(refused('client-info', {})).toMatch(/^client-info: .*takes no payload/);
    expect(refused('client-info', undefined, {}, 'https://evil.net/app/')).toMatch(/^client-info: refused from/);
    expect(refused('client-info', undefined, { isMainFrame: false })).toBe('client-info: refused from a sub-frame');
  });

  it('open-chat: a chat id', () => {
    expect(ok('open-chat', { chatId: CHAT })).toEqual({ chatId: CHAT });
    expect(refused('open-chat', { chatId: '../../api' })).toMatch(/chatId/);
  });
});

describe('set-setting', () => {
  it('takes a settable key with a valid value, normalised', () => {
    expect(ok('set-setting', { key: 'dockEdge', value: 'left' })).toEqual({ key: 'dockEdge', value: 'left' });
    expect(ok('set-setting', { key: 'serverUrl', value: 'https://Portico.example.com/' })).toEqual({ key: 'serverUrl', value: 'https://portico.example.com' });
    expect(ok('set-setting', { key: 'proxy', value: { mode: 'pac', pacUrl: 'http://wpad/proxy.pac' } })).toEqual({
      key: 'proxy',
      value: { mode: 'pac', pacUrl: 'http://wpad/proxy.pac' },
    });
  });

  it('refuses bad values', () => {
    expect(refused('set-setting', { key: 'idleMinutes', value: 0 })).toMatch(/"idleMinutes": .*between 1 and 240/);
    expect(refused('set-setting', { key: 'dockEdge', value: 'middle' })).toMatch(/"dockEdge"/);
    expect(refused('set-setting', { key: 'serverUrl', value: 'javascript:alert(1)' })).toMatch(/"serverUrl"/);
    expect(refused('set-setting', { key: 'proxy', value: { mode: 'manual' } })).toMatch(/"proxy"/);
  });

  it('refuses keys the renderer may never set (trust anchor, update policy) and unknown ones', () => {
    expect(refused('set-setting', { key: 'caFingerprint256', value: 'AB'.repeat(32) })).toMatch(/key must be one of/);
    expect(refused('set-setting', { key: 'updates', value: { enabled: false } })).toMatch(/key must be one of/);
    expect(refused('set-setting', { key: 'locked', value: [] })).toMatch(/key must be one of/);
    expect(refused('set-setting', { key: '__proto__', value: {} })).toMatch(/key must be one of/);
  });

  it('refuses keys the administrator locked', () => {
    expect(refused('set-setting', { key: 'serverUrl', value: 'https://other.example.com' }, { locked: ['serverUrl'] })).toBe(
      'set-setting: "serverUrl" is locked by the administrator',
    );
    expect(ok('set-setting', { key: 'dockEdge', value: 'top' }, { locked: ['serverUrl'] })).toEqual({ key: 'dockEdge', value: 'top' });
  });
});
