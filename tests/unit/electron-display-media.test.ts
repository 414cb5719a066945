import { describe, expect, it, vi } from 'vitest';
import {
  chooseDisplaySource,
  decideDisplayMedia,
  DisplayPicker,
  isCapturePermissionAllowed,
  isCapturePermissionChecked,
  MAX_OFFERED,
  offerOf,
  pickSource,
} from '../../electron/main/display-media.js';
import type { DisplaySourceRequest } from '../../electron/preload/bridge.js';

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

/** A desktopCapturer source with a thumbnail (a NativeImage's two methods). */
const thumbed = (id: string, name: string, url = 'data:image/png;base64,iVBORw0KGgo=') => ({ id, name, thumbnail: { isEmpty: () => url === '', toDataURL: () => url } });

describe('the source picker (a page that shows one)', () => {
  it('offers screens first, then windows; names as text, thumbnails only as PNG data URLs made here', () => {
    const offer = offerOf([
      thumbed('window:7:0', 'Editor <b>x</b>'),
      thumbed('screen:1:0', 'Entire screen'),
      thumbed('tab:1', 'a tab'),
      thumbed('window:8:0', 'Empty', ''),
      thumbed('window:9:0', 'Odd', 'javascript:alert(1)'),
      { id: 'screen:2:0', name: 'x'.repeat(500) },
    ]);
    expect(offer.map((o) => [o.id, o.kind])).toEqual([
      ['screen:1:0', 'screen'],
      ['screen:2:0', 'screen'],
      ['window:7:0', 'window'],
      ['window:8:0', 'window'],
      ['window:9:0', 'window'],
    ]);
    expect(offer[2]!.name).toBe('Editor <b>x</b>'); // text: the page shows it as text
    expect(offer[1]!.name).toHaveLength(200);
    expect(offer[0]!.thumbnail).toBe('data:image/png;base64,iVBORw0KGgo=');
    expect(offer.slice(1).map((o) => o.thumbnail)).toEqual(['', 'data:image/png;base64,iVBORw0KGgo=', '', '']);
    expect(offerOf(Array.from({ length: 60 }, (_, i) => thumbed(`window:${i}:0`, `W${i}`)))).toHaveLength(MAX_OFFERED);
  });

  it('takes an answer only from the page asked, for an open question, naming a source it was offered', async () => {
    const picker = new DisplayPicker(60_000, () => 'req-1');
    const sent: DisplaySourceRequest[] = [];
    const offer = offerOf([thumbed('screen:1:0', 'Screen'), thumbed('window:2:0', 'Window')]);
    const answered = picker.ask(5, offer, (r) => sent.push(r));
    expect(sent).toEqual([{ requestId: 'req-1', sources: offer }]);
    expect(picker.answer(6, 'req-1', 'window:2:0')).toBe(false); // another page
    expect(picker.answer(5, 'req-2', 'window:2:0')).toBe(false); // no such question
    expect(picker.answer(5, 'req-1', 'window:3:0')).toBe(false); // not offered
    expect(picker.answer(5, 'req-1', 'screen:9:0')).toBe(false);
    expect(picker.answer(5, 'req-1', 'window:2:0')).toBe(true);
    await expect(answered).resolves.toBe('window:2:0');
    expect(picker.answer(5, 'req-1', 'screen:1:0')).toBe(false); // answered already
  });

  it('shares nothing on cancel, when the page goes away, when it cannot be asked, or after the time allowed', async () => {
    let n = 0;
    const picker = new DisplayPicker(1000, () => `r${++n}`);
    const offer = offerOf([thumbed('screen:1:0', 'Screen')]);
    const cancelled = picker.ask(1, offer, () => {});
    expect(picker.answer(1, 'r1', null)).toBe(true);
    await expect(cancelled).resolves.toBeUndefined();

    picker.setPicker(2, true);
    expect(picker.hasPicker(2)).toBe(true);
    const gone = picker.ask(2, offer, () => {});
    picker.drop(2);
    await expect(gone).resolves.toBeUndefined();
    expect(picker.hasPicker(2)).toBe(false);

    await expect(
      picker.ask(3, offer, () => {
        throw new Error('destroyed');
      }),
    ).resolves.toBeUndefined();

    vi.useFakeTimers();
    try {
      const late = picker.ask(4, offer, () => {});
      vi.advanceTimersByTime(1001);
      await expect(late).resolves.toBeUndefined();
      expect(picker.answer(4, 'r4', 'screen:1:0')).toBe(false);
    } finally {
      vi.useRealTimers();
    }
    expect(picker.hasPicker(undefined)).toBe(false);
    picker.setPicker(7, true);
    picker.setPicker(7, false);
    expect(picker.hasPicker(7)).toBe(false);
  });

  it('the whole decision: refusals first, then the pick (or none), else the first screen', async () => {
    const sources = [thumbed('window:1:0', 'Window'), thumbed('screen:1:0', 'Screen')];
    const request = { frameUrl: APP, videoRequested: true };
    const asked: string[][] = [];
    const ask = (pick: string | undefined) => async (offer: Array<{ id: string }>) => {
      asked.push(offer.map((o) => o.id));
      return pick;
    };
    expect(await chooseDisplaySource(request, SERVER, sources, ask('window:1:0'))).toEqual({ allow: true, source: sources[0] });
    expect(asked).toEqual([['screen:1:0', 'window:1:0']]);
    expect(await chooseDisplaySource(request, SERVER, sources, ask(undefined))).toEqual({ allow: false, reason: 'cancelled' });
    // Never a source that is not among those desktopCapturer answered (the picker checks too).
    expect(await chooseDisplaySource(request, SERVER, sources, ask('screen:9:0'))).toEqual({ allow: false, reason: 'cancelled' });
    // No picker in the page: the first screen, as before.
    expect(await chooseDisplaySource(request, SERVER, sources)).toEqual({ allow: true, source: sources[1] });
    // Refused before anyone is asked.
    asked.length = 0;
    expect(await chooseDisplaySource({ frameUrl: 'https://evil.net/app/', videoRequested: true }, SERVER, sources, ask('screen:1:0'))).toMatchObject({ allow: false });
    expect(await chooseDisplaySource({ frameUrl: APP, videoRequested: false }, SERVER, sources, ask('screen:1:0'))).toMatchObject({ allow: false });
    expect(asked).toEqual([]);
  });
});
