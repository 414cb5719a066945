import { describe, expect, it } from 'vitest';
import { decideDisplayMedia, isCapturePermissionAllowed, isCapturePermissionChecked, pickSource } from '../../electron/main/display-media.js';

const SERVER = 'https://portico.example.com';
const APP = 'https://portico.example.com/app/';
const screen = (n: number) => ({ id: `screen:${n}:0`, name: `Screen ${n}` });
const win = (n: number) => ({ id: `window:${n}:0`, name: `Window ${n}` });

describe('screen capture permissions (desktop shell)', () => {
  it('allows display-capture to the app on the configured server only', () => {
    expect(isCapturePermissionAllowed('display-capture', APP, SERVER)).toBe(true);
    expect(isCapturePermissionAllowed('display-capture', 'https://portico.example.com/app/meet/x', SERVER)).toBe(true);
    expect(isCapturePermissionAllowed('display-capture', 'https://evil.net/app/', SERVER)).toBe(false);
    expect(isCapturePermissionAllowed('display-capture', 'https://portico.example.com/media/game/1/', SERVER)).toBe(false);
    expect(isCapturePermissionAllowed('display-capture', 'http://portico.example.com/app/', SERVER)).toBe(false);
    expect(isCapturePermissionAllowed('display-capture', undefined, SERVER)).toBe(false);
    expect(isCapturePermissionAllowed('display-capture', APP, undefined)).toBe(false);
  });

  it('keeps the camera and microphone rule and refuses everything else', () => {
    expect(isCapturePermissionAllowed('media', APP, SERVER, ['audio', 'video'])).toBe(true);
    expect(isCapturePermissionAllowed('media', 'https://evil.net/app/', SERVER, ['video'])).toBe(false);
    expect(isCapturePermissionAllowed('media', APP, SERVER, ['video', 'screen'])).toBe(false);
    for (const permission of ['geolocation', 'notifications', 'openExternal', 'clipboard-read', 'hid', 'usb', 'serial', 'pointerLock']) {
      expect(isCapturePermissionAllowed(permission, APP, SERVER), permission).toBe(false);
    }
  });

  it('answers permission checks for the server origin only', () => {
    expect(isCapturePermissionChecked('display-capture', SERVER, SERVER)).toBe(true);
    expect(isCapturePermissionChecked('media', SERVER, `${SERVER}/`)).toBe(true);
    expect(isCapturePermissionChecked('display-capture', 'https://evil.net', SERVER)).toBe(false);
    expect(isCapturePermissionChecked('display-capture', undefined, SERVER)).toBe(false);
    expect(isCapturePermissionChecked('geolocation', SERVER, SERVER)).toBe(false);
  });
});

describe('the display-media request decision', () => {
  it('shares the first screen, else the first window', () => {
    expect(pickSource([win(1), screen(2), screen(1)])).toEqual(screen(2));
    expect(pickSource([win(3), win(1)])).toEqual(win(3));
    expect(pickSource([])).toBeUndefined();
    expect(pickSource([{ id: 'tab:1', name: 'a tab' }])).toBeUndefined();
  });

  it('grants the app a source and refuses other pages, audio-only requests and no sources', () => {
    const sources = [win(1), screen(1)];
    expect(decideDisplayMedia({ frameUrl: APP, videoRequested: true }, SERVER, sources)).toEqual({ allow: true, source: screen(1) });
    // No frame (gone): the security origin decides.
    expect(decideDisplayMedia({ securityOrigin: SERVER, videoRequested: true }, SERVER, sources)).toMatchObject({ allow: true });
    expect(decideDisplayMedia({ securityOrigin: 'https://evil.net', videoRequested: true }, SERVER, sources)).toMatchObject({ allow: false });
    expect(decideDisplayMedia({ frameUrl: 'https://evil.net/app/', securityOrigin: SERVER, videoRequested: true }, SERVER, sources)).toMatchObject({ allow: false });
    expect(decideDisplayMedia({ frameUrl: 'https://portico.example.com/media/x/', videoRequested: true }, SERVER, sources)).toMatchObject({ allow: false });
    expect(decideDisplayMedia({ frameUrl: APP, videoRequested: false }, SERVER, sources)).toMatchObject({ allow: false });
    expect(decideDisplayMedia({ frameUrl: APP, videoRequested: true }, SERVER, [])).toMatchObject({ allow: false, reason: 'no screen or window to share' });
    expect(decideDisplayMedia({ frameUrl: APP, videoRequested: true }, undefined, sources)).toMatchObject({ allow: false });
  });
});
