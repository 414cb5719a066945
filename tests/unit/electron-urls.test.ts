import { describe, expect, it } from 'vitest';
import { appUrl, isAllowedNavigation, isAppUrl, isPermissionAllowed, MAX_EXTERNAL_URL_LENGTH, safeExternalUrl, serverOrigin } from '../../electron/main/urls.js';

const SERVER = 'https://portico.example.com';

describe('safeExternalUrl', () => {
  it('lets http, https and mailto through, normalised', () => {
    expect(safeExternalUrl('https://example.com/news?id=1#top')).toBe('https://example.com/news?id=1#top');
    expect(safeExternalUrl('http://Example.COM')).toBe('http://example.com/');
    expect(safeExternalUrl('mailto:alice@example.com?subject=Hi')).toBe('mailto:alice@example.com?subject=Hi');
    expect(safeExternalUrl('https://例え.jp/')).toBe('https://xn--r8jz45g.jp/');
  });

  it('refuses every other scheme', () => {
    for (const url of [
      'javascript:alert(1)',
      'JavaScript:alert(1)',
      'file:///etc/passwd',
      'file://server/share/x.exe',
      'data:text/html,<script>alert(1)</script>',
      'vbscript:msgbox',
      'ms-settings:privacy',
      'smb://server/share',
      'ftp://example.com/',
      'portico://open',
      'search-ms:query=x',
      'blob:https://example.com/uuid',
      'about:blank',
    ]) {
      expect(safeExternalUrl(url), url).toBeNull();
    }
  });

  it('refuses credentials, missing hosts, relative URLs, control characters and non-strings', () => {
    for (const url of [
      'https://user:pass@example.com/',
      'https://user@example.com/',
      'http://:pw@example.com/',
      'https://',
      '/relative/path',
      'example.com',
      'https://example.com/\u0000x',
      'https://exa mple.com/',
      '\u0001https://example.com/',
      'https://example.com/\nSet-Cookie',
      ' https://example.com/',
      'mailto:',
      '',
    ]) {
      expect(safeExternalUrl(url), JSON.stringify(url)).toBeNull();
    }
    for (const value of [undefined, null, 42, { href: 'https://example.com' }, ['https://example.com']]) {
      expect(safeExternalUrl(value)).toBeNull();
    }
  });

  it('refuses huge URLs', () => {
    const base = 'https://example.com/?q=';
    expect(safeExternalUrl(base + 'a'.repeat(MAX_EXTERNAL_URL_LENGTH - base.length))).not.toBeNull();
    expect(safeExternalUrl(base + 'a'.repeat(MAX_EXTERNAL_URL_LENGTH - base.length + 1))).toBeNull();
    expect(safeExternalUrl(base + 'a'.repeat(1_000_000))).toBeNull();
    // Short input that grows past the limit once percent-encoded by the parser.
    expect(safeExternalUrl(base + 'é'.repeat(1000))).toBeNull();
  });
});

describe('navigation allow-list', () => {
  it('builds the app URL from the server URL, with or without a path prefix', () => {
    expect(appUrl(SERVER)).toBe('https://portico.example.com/app/');
    expect(appUrl('https://intranet.example.com/portico/')).toBe('https://intranet.example.com/portico/app/');
    expect(serverOrigin('https://portico.example.com:8443/x')).toBe('https://portico.example.com:8443');
    expect(serverOrigin('file:///x')).toBeUndefined();
    expect(serverOrigin(undefined)).toBeUndefined();
  });

  it('allows pages under /app/ of the configured origin only', () => {
    expect(isAllowedNavigation('https://portico.example.com/app/', SERVER)).toBe(true);
    expect(isAllowedNavigation('https://portico.example.com/app', SERVER)).toBe(true);
    expect(isAllowedNavigation('https://portico.example.com/app/#/chat/1', SERVER)).toBe(true);
    expect(isAllowedNavigation('https://portico.example.com/app/settings?tab=proxy', SERVER)).toBe(true);
    expect(isAllowedNavigation('https://PORTICO.example.com:443/app/', SERVER)).toBe(true);
  });

  it('refuses other paths, origins, schemes, ports and credentials', () => {
    for (const url of [
      'https://portico.example.com/',
      'https://portico.example.com/api/v1/me',
      'https://portico.example.com/application',
      'https://portico.example.com/app/../api/v1/admin',
      'https://portico.example.com/app/%2e%2e/api',
      'http://portico.example.com/app/',
      'https://portico.example.com:8443/app/',
      'https://portico.example.com.evil.net/app/',
      'https://evil.net/app/',
      'https://user:pw@portico.example.com/app/',
      'file:///app/',
      'data:text/html,hi',
      'javascript:alert(1)',
      'about:blank',
      'not a url',
    ]) {
      expect(isAllowedNavigation(url, SERVER), url).toBe(false);
    }
  });

  it('honours a path prefix and refuses everything without a server', () => {
    const prefixed = 'https://intranet.example.com/portico';
    expect(isAppUrl('https://intranet.example.com/portico/app/', prefixed)).toBe(true);
    expect(isAppUrl('https://intranet.example.com/app/', prefixed)).toBe(false);
    expect(isAppUrl('https://intranet.example.com/other/app/', prefixed)).toBe(false);
    expect(isAppUrl('https://portico.example.com/app/', undefined)).toBe(false);
  });
});

describe('permissions', () => {
  it('allows camera and microphone for the app only', () => {
    expect(isPermissionAllowed('media', 'https://portico.example.com/app/', SERVER, ['audio', 'video'])).toBe(true);
    expect(isPermissionAllowed('media', 'https://portico.example.com/app/', SERVER, [])).toBe(true);
    expect(isPermissionAllowed('media', 'https://evil.net/app/', SERVER, ['audio'])).toBe(false);
    expect(isPermissionAllowed('media', 'https://portico.example.com/media/game/1/', SERVER, ['video'])).toBe(false);
    expect(isPermissionAllowed('media', undefined, SERVER, ['video'])).toBe(false);
  });

  it('refuses every other permission, even to the app', () => {
    for (const permission of ['geolocation', 'notifications', 'display-capture', 'openExternal', 'clipboard-read', 'midiSysex', 'hid', 'usb', 'serial', 'pointerLock']) {
      expect(isPermissionAllowed(permission, 'https://portico.example.com/app/', SERVER), permission).toBe(false);
    }
    expect(isPermissionAllowed('media', 'https://portico.example.com/app/', SERVER, ['video', 'screen'])).toBe(false);
  });
});
