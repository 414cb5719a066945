/**
 * Content providers and the ticker against a real server: the admin makes a provider, which
 * pushes like a shell script would (form, multipart, JSON; key as bearer or field; optional HMAC
 * signature); users get ticker items by long poll and GET /ticker, per their channel choice.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, expectError, send, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let n = 0;

/** A provider for these channels (unique names per call); answers its name and key. */
async function provider(channels: string[], extra: Record<string, unknown> = {}) {
  const name = `prov${++n}`;
  const res = await server.admin.post('/api/v1/admin/providers', { name, channels, ...extra });
  expect(res.status).toBe(201);
  expect(res.body.provider).toMatchObject({ name, requireSignature: !!extra.requireSignature });
  expect(res.body.key).toMatch(/^pk_/);
  return { name, key: res.body.key as string };
}

/** A push exactly as curl sends it. */
function push(path: string, body: URLSearchParams | FormData | string, headers: Record<string, string> = {}) {
  const contentType: Record<string, string> = typeof body === 'string' ? { 'content-type': 'application/json' } : {};
  return send(server.url + path, { method: 'POST', body, headers: { ...contentType, ...headers } });
}
const form = (fields: Record<string, string>) => new URLSearchParams(fields);
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const tickerTexts = async (client: Client) => (await client.get('/api/v1/ticker')).body.items.map((i: any) => i.text);

beforeAll(async () => {
  server = await startTestServer({ loginPerIpPerMinute: 10_000, providerRequestsPerMinute: 1000 });
});
afterAll(() => server.destroy());

describe('providers push ticker items', () => {
  it('form-encoded with a key field, multipart and JSON with a bearer key: each 201 with its id', async () => {
    const { key } = await provider([`wx${n + 1}`]);
    const channel = `wx${n}`;
    const a = await push('/cgi/ticker', form({ key, channel, text: 'Sunny, 21°C', url: 'https://weather.example/today', priority: '5' }));
    expect(a.status).toBe(201);
    expect(a.body).toEqual({ id: expect.any(Number), channel });
    const fd = new FormData();
    fd.set('channel', channel);
    fd.set('text', 'Rain tomorrow');
    const b = await push('/cgi/ticker', fd, bearer(key));
    expect(b.status).toBe(201);
    const c = await push('/cgi/ticker', JSON.stringify({ channel, text: 'Windy', expires: 3600 }), bearer(key));
    expect(c.status).toBe(201);
    expect(new Set([a.body.id, b.body.id, c.body.id]).size).toBe(3);

    const alice = await server.user(`t1-alice`);
    const items = (await alice.get('/api/v1/ticker')).body.items.filter((i: any) => i.channel === channel);
    expect(items.map((i: any) => i.text)).toEqual(['Sunny, 21°C', 'Windy', 'Rain tomorrow']); // priority, then newest
    expect(items[0]).toMatchObject({ url: 'https://weather.example/today', priority: 5 });
    expect(items[0].expiresAt).toBeUndefined();
    expect(Date.parse(items[1].expiresAt) - Date.now()).toBeGreaterThan(3500_000);
  });

  it('a held poll receives the item in the same poll cycle, as a flat ticker.item event', async () => {
    const { key } = await provider(['news-a']);
    const bob = await server.user('t2-bob');
    await bob.poll();
    const held = bob.poll(10);
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    expect((await push('/cgi/ticker', form({ key, channel: 'news-a', text: 'Merger announced', url: 'https://news.example/1' }))).status).toBe(201);
    const events = await held;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(events).toEqual([
      expect.objectContaining({ type: 'ticker.item', channel: 'news-a', text: 'Merger announced', url: 'https://news.example/1', priority: 0 }),
    ]);
  });

  it('expired items leave the ticker; an expiry in the past is refused', async () => {
    const { key } = await provider(['flash']);
    const carol = await server.user('t3-carol');
    expect((await push('/cgi/ticker', form({ key, channel: 'flash', text: 'gone soon', expires: '1' }))).status).toBe(201);
    expect((await push('/cgi/ticker', form({ key, channel: 'flash', text: 'stays', expires: new Date(Date.now() + 3600_000).toISOString() }))).status).toBe(201);
    expect(await tickerTexts(carol)).toEqual(expect.arrayContaining(['gone soon', 'stays']));
    await new Promise((r) => setTimeout(r, 1100));
    const texts = await tickerTexts(carol);
    expect(texts).toContain('stays');
    expect(texts).not.toContain('gone soon');
    const past = await push('/cgi/ticker', form({ key, channel: 'flash', text: 'late', expires: '2001-01-01T00:00:00Z' }));
    expectError(past, 400, 'invalid_request');
  });

  it('at most 20 live items per channel are shown, by priority then newest', async () => {
    const { key } = await provider(['busy']);
    for (let i = 0; i < 25; i++) {
      expect((await push('/cgi/ticker', form({ key, channel: 'busy', text: `item ${i}`, priority: i === 3 ? '10' : '0' }))).status).toBe(201);
    }
    const dave = await server.user('t4-dave');
    const busy = (await dave.get('/api/v1/ticker')).body.items.filter((i: any) => i.channel === 'busy').map((i: any) => i.text);
    expect(busy).toHaveLength(20);
    expect(busy[0]).toBe('item 3');
    expect(busy.slice(1, 4)).toEqual(['item 24', 'item 23', 'item 22']);
  });

  it('provider text is data: markup is stored and served as the same inert JSON string', async () => {
    const { key } = await provider(['xss']);
    const payload = `<img src=x onerror="alert(1)"><script>alert(2)</script>`;
    expect((await push('/cgi/ticker', form({ key, channel: 'xss', text: payload }))).status).toBe(201);
    const erin = await server.user('t5-erin');
    const res = await erin.get('/api/v1/ticker');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.body.items.find((i: any) => i.channel === 'xss').text).toBe(payload);
    for (const url of ['javascript:alert(1)', 'data:text/html,<script>alert(1)</script>', 'ftp://files.example/x', 'not a url']) {
      expectError(await push('/cgi/ticker', form({ key, channel: 'xss', text: 'link', url })), 400, 'invalid_request', url);
    }
  });
});

describe('who may push', () => {
  it('channels outside the provider’s scope are 403; unknown and missing keys are 401', async () => {
    const { key } = await provider(['own']);
    await provider(['other']);
    const res = await push('/cgi/ticker', form({ key, channel: 'other', text: 'not mine' }));
    expectError(res, 403, 'forbidden');
    expect(res.body.error.message).toContain('own');
    expectError(await push('/cgi/ticker', form({ key: 'pk_wrong', channel: 'own', text: 'x' })), 401, 'unauthorized');
    expectError(await push('/cgi/ticker', form({ channel: 'own', text: 'x' })), 401, 'unauthorized');
    expectError(await push('/cgi/ticker', form({ channel: 'own', text: 'x' }), bearer('pk_wrong')), 401, 'unauthorized');
    // A user token is no provider key.
    expectError(await push('/cgi/ticker', form({ channel: 'own', text: 'x' }), bearer(server.admin.token!)), 401, 'unauthorized');
  });

  it('bad pushes are 4xx with a reason, and store nothing', async () => {
    const { key } = await provider(['strict']);
    const cases: Array<[string, URLSearchParams | string, Record<string, string>, number, string]> = [
      ['no channel', form({ key, text: 'x' }), {}, 400, 'invalid_request'],
      ['no text', form({ key, channel: 'strict' }), {}, 400, 'invalid_request'],
      ['blank text', form({ key, channel: 'strict', text: '   ' }), {}, 400, 'invalid_request'],
      ['text too long', form({ key, channel: 'strict', text: 'x'.repeat(501) }), {}, 400, 'invalid_request'],
      ['unknown field', form({ key, channel: 'strict', text: 'x', colour: 'red' }), {}, 400, 'invalid_request'],
      ['priority not a number', form({ key, channel: 'strict', text: 'x', priority: 'high' }), {}, 400, 'invalid_request'],
      ['priority out of range', form({ key, channel: 'strict', text: 'x', priority: '1000' }), {}, 400, 'invalid_request'],
      ['bad expiry', form({ key, channel: 'strict', text: 'x', expires: 'tomorrow-ish' }), {}, 400, 'invalid_request'],
      ['channel twice', new URLSearchParams([['key', key], ['channel', 'strict'], ['channel', 'strict'], ['text', 'x']]), {}, 400, 'invalid_request'],
      ['invalid JSON', '{"channel": "strict", ', bearer(key), 400, 'invalid_json'],
      ['JSON array', '[1,2]', bearer(key), 400, 'invalid_request'],
      ['body over 1 MiB', form({ key, channel: 'strict', text: 'x', pad: 'y'.repeat(1024 * 1024) }), {}, 413, 'body_too_large'],
    ];
    for (const [what, body, headers, status, code] of cases) expectError(await push('/cgi/ticker', body, headers), status, code, what);
    const xml = await fetch(`${server.url}/cgi/ticker`, { method: 'POST', body: '<x/>', headers: { 'content-type': 'text/xml', ...bearer(key) } });
    expect(xml.status).toBe(415);
    const fd = new FormData();
    fd.set('channel', 'strict');
    fd.set('text', 'with a file');
    fd.set('file', new Blob(['abc']), 'a.txt');
    expectError(await push('/cgi/ticker', fd, bearer(key)), 400, 'invalid_request', 'a file where none is taken');

    const frank = await server.user('t6-frank');
    expect((await frank.get('/api/v1/ticker')).body.items.filter((i: any) => i.channel === 'strict')).toEqual([]);
    expect((await server.admin.get('/healthz')).status).toBe(200);
  });

  it('over the rate limit a provider gets 429 with Retry-After', async () => {
    const limited = await startTestServer({ providerRequestsPerMinute: 3 });
    try {
      const res = await limited.admin.post('/api/v1/admin/providers', { name: 'chatty', channels: ['spam'] });
      const key = res.body.key;
      for (let i = 0; i < 3; i++) {
        expect((await fetch(`${limited.url}/cgi/ticker`, { method: 'POST', body: form({ key, channel: 'spam', text: `${i}` }) })).status).toBe(201);
      }
      const over = await fetch(`${limited.url}/cgi/ticker`, { method: 'POST', body: form({ key, channel: 'spam', text: 'one more' }) });
      expect(over.status).toBe(429);
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await over.json()).error.code).toBe('rate_limited');
    } finally {
      await limited.destroy();
    }
  });

  it('signed pushes: the key never travels; a changed body, an old timestamp or a wrong provider fail', async () => {
    const { name, key } = await provider(['signed'], { requireSignature: true });
    // The HMAC-SHA256 of "<timestamp>.<METHOD>.<path>.<raw body>" under the key.
    const sign = (body: string, ts = Math.floor(Date.now() / 1000), who = name, path = '/cgi/ticker') => ({
      'content-type': 'application/x-www-form-urlencoded',
      'x-portico-provider': who,
      'x-portico-timestamp': String(ts),
      'x-portico-signature': `sha256=${createHmac('sha256', key).update(`${ts}.POST.${path}.${body}`).digest('hex')}`,
    });
    const body = 'channel=signed&text=Signed+hello';
    const t0 = Math.floor(Date.now() / 1000);
    const signedOnce = sign(body, t0);
    const ok = await push('/cgi/ticker', body, signedOnce);
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    // Another timestamp than the accepted one (the clock may have passed a second meanwhile: "now - 1" could be t0 again, a replay).
    expectError(await push('/cgi/ticker', `${body}!`, sign(body, t0 - 1)), 401, 'unauthorized', 'body changed');
    expectError(await push('/cgi/ticker', body, sign(body, Math.floor(Date.now() / 1000) - 600)), 401, 'unauthorized', 'too old');
    expectError(await push('/cgi/ticker', body, signedOnce), 409, 'replayed', 'the same signature again');
    expectError(await push('/cgi/ticker', body, sign(body, undefined, 'nobody')), 401, 'unauthorized', 'unknown provider');
    // This provider signs or is refused, even with its right key.
    expectError(await push('/cgi/ticker', form({ key, channel: 'signed', text: 'unsigned' })), 401, 'unauthorized', 'unsigned');
    // A multipart body is signed the same way, over its raw bytes.
    const boundary = 'xBOUNDARYx';
    const multipart = `--${boundary}\r\nContent-Disposition: form-data; name="channel"\r\n\r\nsigned\r\n--${boundary}\r\nContent-Disposition: form-data; name="text"\r\n\r\nSigned multipart\r\n--${boundary}--\r\n`;
    const headers = { ...sign(multipart), 'content-type': `multipart/form-data; boundary=${boundary}` };
    const signedMultipart = await push("/cgi/ticker", multipart, headers);
    expect(signedMultipart.status, JSON.stringify(signedMultipart.body)).toBe(201);
    const gina = await server.user('t7-gina');
    expect((await gina.get('/api/v1/ticker')).body.items.filter((i: any) => i.channel === 'signed').map((i: any) => i.text)).toEqual([
      'Signed multipart',
      'Signed hello',
    ]);
  });

  it('rotating a key stops the old one at once; removing the provider stops the new one', async () => {
    const { name, key } = await provider(['rot']);
    const rotated = await server.admin.post(`/api/v1/admin/providers/${name}/key`);
    expect(rotated.status).toBe(200);
    const fresh = rotated.body.key;
    expect(fresh).not.toBe(key);
    expectError(await push('/cgi/ticker', form({ key, channel: 'rot', text: 'old key' })), 401, 'unauthorized');
    expect((await push('/cgi/ticker', form({ key: fresh, channel: 'rot', text: 'new key' }))).status).toBe(201);
    const listed = (await server.admin.get('/api/v1/admin/providers')).body.providers.find((p: any) => p.name === name);
    expect(listed).toEqual({ id: expect.any(Number), name, channels: ['rot'], requireSignature: false, createdAt: expect.any(String) });
    expect(JSON.stringify((await server.admin.get('/api/v1/admin/providers')).body)).not.toContain(fresh);
    expect((await server.admin.delete(`/api/v1/admin/providers/${name}`)).status).toBe(200);
    expectError(await push('/cgi/ticker', form({ key: fresh, channel: 'rot', text: 'gone' })), 401, 'unauthorized');
    expectError(await server.admin.delete(`/api/v1/admin/providers/${name}`), 404, 'not_found');
    expectError(await server.admin.post('/api/v1/admin/providers', { name: 'x', channels: [] }), 400, 'invalid_request');
  });
});

describe('channel choice', () => {
  it('a user sees the defaults until choosing; their choice and order rule their ticker and their poll', async () => {
    const { key } = await provider(['c-stocks', 'c-sports']);
    const hank = await server.user('t8-hank');
    await hank.poll();
    const before = (await hank.get('/api/v1/channels')).body;
    expect(before.mine).toEqual([]);
    expect(before.channels.map((c: any) => c.name)).toEqual(expect.arrayContaining(['c-stocks', 'c-sports']));

    const chosen = await hank.put('/api/v1/channels/mine', { channels: ['c-stocks', 'c-sports'].reverse() });
    expect(chosen.status).toBe(200);
    expect(chosen.body.mine).toEqual(['c-sports', 'c-stocks']);
    expect((await hank.get('/api/v1/ticker')).body.channels).toEqual(['c-sports', 'c-stocks']);
    await hank.put('/api/v1/channels/mine', { channels: ['c-stocks'] });
    expect((await hank.get('/api/v1/ticker')).body.channels).toEqual(['c-stocks']);

    await push('/cgi/ticker', form({ key, channel: 'c-sports', text: 'Goal!' }));
    await push('/cgi/ticker', form({ key, channel: 'c-stocks', text: 'ACME +3%' }));
    const events = await hank.poll(2);
    expect(events.filter((e) => e.type === 'ticker.item').map((e) => e.text)).toEqual(['ACME +3%']);
    expect(await tickerTexts(hank)).toEqual(['ACME +3%']);

    expectError(await hank.put('/api/v1/channels/mine', { channels: ['no-such-channel'] }), 404, 'not_found');
    expect((await hank.put('/api/v1/channels/mine', { channels: [] })).body.mine).toEqual([]);
  });

  it('the admin decides which channels users who chose nothing see', async () => {
    const { key } = await provider(['d-shown', 'd-hidden']);
    const res = await server.admin.put('/api/v1/admin/channels/d-hidden', { isDefault: false, title: 'Hidden unless chosen' });
    expect(res.body.channel).toEqual({ name: 'd-hidden', title: 'Hidden unless chosen', isDefault: false });
    await push('/cgi/ticker', form({ key, channel: 'd-hidden', text: 'secret-ish' }));
    await push('/cgi/ticker', form({ key, channel: 'd-shown', text: 'public' }));
    const ivy = await server.user('t9-ivy');
    const ticker = (await ivy.get('/api/v1/ticker')).body;
    expect(ticker.channels).toContain('d-shown');
    expect(ticker.channels).not.toContain('d-hidden');
    expect(ticker.items.map((i: any) => i.text)).not.toContain('secret-ish');
    await ivy.put('/api/v1/channels/mine', { channels: ['d-hidden'] });
    expect(await tickerTexts(ivy)).toEqual(['secret-ish']);
    expectError(await ivy.put('/api/v1/admin/channels/d-hidden', { isDefault: true }), 403, 'forbidden');
  });
});
