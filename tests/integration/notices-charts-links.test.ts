/**
 * Notices, charts and the links area against a real server over HTTP: provider pushes as a shell
 * script makes them (form-encoded, multipart or JSON), what users read and what reaches their
 * event stream, and that HTML from providers and administrators is served inert.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChartsResponse, LinksResponse, NoticesResponse } from '../../shared/index.js';
import { Client, eventually, expectError, startTestServer, type TestServer, reply } from '../helpers/server.js';

type How = 'form' | 'multipart' | 'json';

let server: TestServer;
let reader: Client;
/** Provider keys by name. */
const keys: Record<string, string> = {};

async function createProvider(name: string, channels: string[]) {
  const res = await server.admin.post('/api/v1/admin/providers', { name, channels });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  keys[name] = res.body.key;
}

/** A provider push the way curl makes it: the key in a form field (form posts) or as a bearer token. */
async function push(path: string, provider: string, fields: Record<string, unknown>, how: How) {
  const key = keys[provider]!;
  let init: RequestInit;
  if (how === 'json') {
    init = { headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(fields) };
  } else if (how === 'form') {
    const form = new URLSearchParams({ key });
    for (const [k, v] of Object.entries(fields)) form.set(k, String(v));
    init = { body: form };
  } else {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.set(k, String(v));
    init = { headers: { authorization: `Bearer ${key}` }, body: form };
  }
  const res = await fetch(server.url + path, { method: 'POST', ...init });
  return reply(res);
}

const notices = async () => {
  const res = await reader.get('/api/v1/notices');
  expect(res.status).toBe(200);
  expect(NoticesResponse.safeParse(res.body).success, JSON.stringify(res.body)).toBe(true);
  return res.body.notices as any[];
};

const charts = async (query: Record<string, string>) => {
  const res = await reader.get(`/api/v1/charts?${new URLSearchParams(query)}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(ChartsResponse.safeParse(res.body).success, JSON.stringify(res.body)).toBe(true);
  return res.body.series as any[];
};

/** HTML that cannot run anything: no script or other active tag, no handler attribute, no script URL. */
function expectInertHtml(html: string, what: string) {
  expect(html, what).not.toMatch(/<\s*(script|iframe|svg|object|embed|form|meta|style|base|link)\b/i);
  for (const tag of html.match(/<[^>]*>/g) ?? []) {
    const names = tag.replace(/="[^"]*"/g, ''); // quoted values are text
    expect(names, what).not.toMatch(/\son[a-z]+|style|class|srcdoc/i);
    for (const url of tag.matchAll(/\s(?:href|src)="([^"]*)"/g)) expect(url[1], what).toMatch(/^(https?:\/\/|mailto:)/);
  }
  expect(html, what).not.toMatch(/javascript:|vbscript:|data:text/i);
}

const XSS = [
  '<p>Hello</p><script>alert(1)</script>',
  '<p>img</p><img src=x onerror=alert(1)>',
  '<a href="javascript:alert(1)">click</a>',
  '<a href="jav&#x09;ascript:alert(1)">tab</a>',
  '<a href=" JaVaScRiPt:alert(1)">case</a>',
  '<a href="&#106;avascript:alert(1)">entity</a>',
  '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data</a>',
  '<a href="vbscript:msgbox(1)">vb</a>',
  '<p>svg</p><svg onload=alert(1)><script>alert(2)</script></svg>',
  '<p style="width:expression(alert(1))" onclick="alert(1)">styled</p>',
  '<p>frame</p><iframe src="javascript:alert(1)"></iframe>',
  '<form action="javascript:alert(1)"><button>form</button></form>',
  '<p>meta</p><meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
  '<scr<script>ipt>alert(1)</scr</script>ipt>nested',
  '<noscript><p title="</noscript><img src=x onerror=alert(1)>">noscript</p></noscript>x',
];

beforeAll(async () => {
  server = await startTestServer({ providerRequestsPerMinute: 1000 });
  await createProvider('newsroom', ['news', 'stocks']);
  await createProvider('outsider', ['weather']);
  reader = await server.user('reader');
});

afterAll(async () => {
  await server?.destroy();
});

describe('notices', () => {
  it.each<[How]>([['form'], ['multipart'], ['json']])('takes a %s post and lists it', async (how) => {
    const res = await push('/cgi/notice', 'newsroom', { channel: 'news', text: `by ${how}`, priority: '5', url: 'https://intranet.example/n' }, how);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toEqual({ id: expect.any(Number), channel: 'news' });
    const listed = (await notices()).find((n) => n.id === res.body.id);
    expect(listed).toMatchObject({ channel: 'news', text: `by ${how}`, priority: 5, url: 'https://intranet.example/n' });
    expect(listed.html).toBeUndefined();
  });

  it('takes html, sanitized, the same way in form, multipart and JSON posts', async () => {
    for (const how of ['form', 'multipart', 'json'] as How[]) {
      const res = await push('/cgi/notice', 'newsroom', { channel: 'news', html: `<p onclick="x()">via <b>${how}</b><script>bad()</script></p>` }, how);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      const listed = (await notices()).find((n) => n.id === res.body.id);
      expect(listed.html).toBe(`<p>via <b>${how}</b></p>`);
      expect(listed.text).toBeUndefined();
    }
  });

  it('delivers notice.item to a held poll in the same poll cycle', async () => {
    await reader.poll(0); // cursor: now
    const started = Date.now();
    const held = reader.poll(10);
    await new Promise((r) => setTimeout(r, 150)); // let the poll be held before the push
    const res = await push('/cgi/notice', 'newsroom', { channel: 'news', text: 'held poll' }, 'form');
    expect(res.status).toBe(201);
    const events = await held;
    expect(Date.now() - started).toBeLessThan(5000);
    const event = events.find((e) => e.type === 'notice.item');
    expect(event, JSON.stringify(events)).toBeDefined();
    expect(event.notice).toMatchObject({ id: res.body.id, channel: 'news', text: 'held poll' });
  });

  it('lists notices scheduled for later with their startsAt, and stops listing ended ones', async () => {
    const startsAt = new Date(Date.now() + 3600_000);
    startsAt.setMilliseconds(0);
    const later = await push('/cgi/notice', 'newsroom', { channel: 'news', text: 'later', starts: String(startsAt.getTime() / 1000) }, 'form');
    expect(later.status, JSON.stringify(later.body)).toBe(201);
    const ending = await push('/cgi/notice', 'newsroom', { channel: 'news', text: 'ending soon', ends: new Date(Date.now() + 1200).toISOString() }, 'json');
    expect(ending.status, JSON.stringify(ending.body)).toBe(201);

    const now = await notices();
    expect(now.find((n) => n.id === later.body.id)).toMatchObject({ text: 'later', startsAt: startsAt.toISOString() });
    expect(now.find((n) => n.id === ending.body.id)).toMatchObject({ text: 'ending soon', endsAt: expect.any(String) });

    await eventually(async () => !(await notices()).some((n) => n.id === ending.body.id), 5000, 'the ended notice to go');
    expect((await notices()).some((n) => n.id === later.body.id)).toBe(true);
  });

  it('refuses a notice that has already ended, or ends before it starts', async () => {
    const before = (await notices()).length;
    expectError(await push('/cgi/notice', 'newsroom', { channel: 'news', text: 'gone', ends: String(Math.floor(Date.now() / 1000) - 60) }, 'form'), 400, 'invalid_request');
    const t = Math.floor(Date.now() / 1000) + 3600;
    expectError(await push('/cgi/notice', 'newsroom', { channel: 'news', text: 'reversed', starts: String(t), ends: String(t - 60) }, 'form'), 400, 'invalid_request');
    expect((await notices()).length).toBe(before);
  });

  it('returns plain notice text exactly as sent: it is data, shown as text', async () => {
    const text = '<script>alert(1)</script> & <b>not bold</b> "quoted" \'single\'';
    const res = await push('/cgi/notice', 'newsroom', { channel: 'news', text }, 'multipart');
    expect(res.status).toBe(201);
    const listed = (await notices()).find((n) => n.id === res.body.id);
    expect(listed.text).toBe(text);
    expect(listed.html).toBeUndefined();
  });

  it('stores and serves XSS payloads in notice html inert, in the list and in the event', async () => {
    await reader.poll(0);
    const ids: number[] = [];
    for (const payload of XSS) {
      const res = await push('/cgi/notice', 'newsroom', { channel: 'news', html: payload }, 'form');
      expect(res.status, `${payload} -> ${JSON.stringify(res.body)}`).toBe(201);
      ids.push(res.body.id);
    }
    const listed = await notices();
    for (const [i, id] of ids.entries()) {
      const notice = listed.find((n) => n.id === id);
      expect(notice, XSS[i]).toBeDefined();
      expectInertHtml(notice.html, XSS[i]!);
    }
    expect(listed.find((n) => n.id === ids[0])!.html).toBe('<p>Hello</p>');
    expect(listed.find((n) => n.id === ids[2])!.html).toBe('<a rel="noopener noreferrer" target="_blank">click</a>');

    const events: any[] = [];
    await eventually(async () => {
      events.push(...(await reader.poll(0)).filter((e) => e.type === 'notice.item'));
      return events.length >= ids.length;
    });
    for (const e of events) expectInertHtml(e.notice.html, 'event');
  });

  it('answers 400 when nothing is left of the html after sanitizing, and stores nothing', async () => {
    const before = (await notices()).length;
    for (const html of ['<script>alert(1)</script>', '<img src=x onerror=alert(1)>', '<p> </p><iframe src="https://evil.example/"></iframe>']) {
      const res = await push('/cgi/notice', 'newsroom', { channel: 'news', html }, 'json');
      expectError(res, 400, 'invalid_request', html);
      expect(res.body.error.message).toMatch(/html/);
    }
    expect((await notices()).length).toBe(before);
  });

  it('needs exactly one of text and html', async () => {
    expectError(await push('/cgi/notice', 'newsroom', { channel: 'news' }, 'form'), 400, 'invalid_request');
    expectError(await push('/cgi/notice', 'newsroom', { channel: 'news', text: 'a', html: '<p>b</p>' }, 'form'), 400, 'invalid_request');
  });

  it('refuses a channel the provider was not granted (403), and an unknown key (401)', async () => {
    const before = (await notices()).length;
    expectError(await push('/cgi/notice', 'outsider', { channel: 'news', text: 'not mine' }, 'form'), 403, 'forbidden');
    expectError(await push('/cgi/notice', 'newsroom', { channel: 'weather', text: 'not mine' }, 'json'), 403, 'forbidden');
    const res = await fetch(`${server.url}/cgi/notice`, { method: 'POST', body: new URLSearchParams({ key: 'pk_wrong', channel: 'news', text: 'x' }) });
    expect(res.status).toBe(401);
    expect((await notices()).length).toBe(before);
  });

  it('is for logged-in users only', async () => {
    expect((await new Client(server.url).get('/api/v1/notices')).status).toBe(401);
  });
});

describe('charts', () => {
  const base = 1_700_000_000; // Unix seconds

  it('merges points across form, multipart and JSON posts, in time order, a repeated time replacing its value', async () => {
    // form: "time:value" text in Unix seconds
    let res = await push('/cgi/chart', 'newsroom', { channel: 'stocks', series: 'ACME', unit: 'EUR', points: `${base + 60}:10.5,${base + 180}:12` }, 'form');
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toEqual({ channel: 'stocks', series: 'ACME', points: 2 });
    // JSON: [[ms, value]], one of them a time already there
    res = await push('/cgi/chart', 'newsroom', { channel: 'stocks', series: 'ACME', points: [[(base + 120) * 1000, 11], [(base + 180) * 1000, 13.25]] }, 'json');
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.points).toBe(2);
    // JSON objects with ISO times and a numeric string
    res = await push('/cgi/chart', 'newsroom', { channel: 'stocks', series: 'ACME', points: [{ time: new Date(base * 1000).toISOString(), value: '9.75' }] }, 'json');
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    // multipart: ISO times with colons in the text form, and JSON text in a field
    res = await push('/cgi/chart', 'newsroom', { channel: 'stocks', series: 'ACME', points: `${new Date((base + 240) * 1000).toISOString()}:-1.5` }, 'multipart');
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    res = await push('/cgi/chart', 'newsroom', { channel: 'stocks', series: 'ACME', points: JSON.stringify([[base + 300, 2e3]]) }, 'multipart');
    expect(res.status, JSON.stringify(res.body)).toBe(201);

    const [series, ...rest] = await charts({ channel: 'stocks', series: 'ACME' });
    expect(rest).toEqual([]);
    expect(series).toEqual({
      channel: 'stocks',
      series: 'ACME',
      unit: 'EUR',
      points: [
        [base * 1000, 9.75],
        [(base + 60) * 1000, 10.5],
        [(base + 120) * 1000, 11],
        [(base + 180) * 1000, 13.25],
        [(base + 240) * 1000, -1.5],
        [(base + 300) * 1000, 2000],
      ],
    });
  });

  it('delivers chart.points to a held poll in the same poll cycle', async () => {
    await reader.poll(0);
    const started = Date.now();
    const held = reader.poll(10);
    await new Promise((r) => setTimeout(r, 150));
    const res = await push('/cgi/chart', 'newsroom', { channel: 'stocks', series: 'HELD', unit: 'pt', points: `${base + 2}:2,${base + 1}:1` }, 'form');
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const events = await held;
    expect(Date.now() - started).toBeLessThan(5000);
    const event = events.find((e) => e.type === 'chart.points');
    expect(event, JSON.stringify(events)).toBeDefined();
    expect(event).toMatchObject({
      channel: 'stocks',
      series: 'HELD',
      unit: 'pt',
      points: [
        [(base + 1) * 1000, 1],
        [(base + 2) * 1000, 2],
      ],
    });
  });

  it('keeps the last value of a time given twice in one post, and counts it once', async () => {
    const res = await push('/cgi/chart', 'newsroom', { channel: 'stocks', series: 'DUP', points: `${base}:1,${base}:2,${base + 1}:3` }, 'form');
    expect(res.body).toEqual({ channel: 'stocks', series: 'DUP', points: 2 });
    expect((await charts({ series: 'DUP' }))[0].points).toEqual([
      [base * 1000, 2],
      [(base + 1) * 1000, 3],
    ]);
  });

  const BAD: Array<[string, unknown, How]> = [
    ['no points', undefined, 'form'],
    ['empty text', '', 'form'],
    ['empty list', [], 'json'],
    ['empty JSON text', '[]', 'multipart'],
    ['no colon', `${base}`, 'form'],
    ['not a number', `${base}:abc`, 'form'],
    ['no value', `${base}:`, 'form'],
    ['not a time', 'yesterday:5', 'form'],
    ['a negative time', '-5:1', 'form'],
    ['infinite value', `${base}:Infinity`, 'form'],
    ['NaN', [[base, 'NaN']], 'json'],
    ['null value', [[base, null]], 'json'],
    ['overflowing value', `[[${base}, 1e999]]`, 'multipart'],
    ['three elements', [[base, 1, 2]], 'json'],
    ['an object without value', [{ time: base }], 'json'],
    ['an object with extra keys', [{ time: base, value: 1, x: 2 }], 'json'],
    ['a plain number', 5, 'json'],
    ['an object', { time: base, value: 1 }, 'json'],
    ['bad JSON text', '[[1,2]', 'form'],
    ['one bad point among good ones', `${base}:1,${base + 1}:x,${base + 2}:3`, 'form'],
    ['year 10000', [['10000-01-01T00:00:00Z', 1]], 'json'],
  ];

  it.each(BAD)('answers 400 for %s and stores nothing', async (what, points, how) => {
    const fields: Record<string, unknown> = { channel: 'stocks', series: 'BAD' };
    if (points !== undefined) fields.points = points;
    const res = await push('/cgi/chart', 'newsroom', fields, how);
    expectError(res, 400, 'invalid_request', what);
    expect(res.body.error.message).toMatch(/points/);
    expect(await charts({ series: 'BAD' })).toEqual([]);
  });

  it('refuses more than PORTAL_LIMITS.chartPointsPerPost points, and leaves an existing series as it was', async () => {
    const before = await charts({ channel: 'stocks', series: 'ACME' });
    const many = Array.from({ length: 5001 }, (_, i) => `${base + 1000 + i}:${i}`).join(',');
    const res = await push('/cgi/chart', 'newsroom', { channel: 'stocks', series: 'ACME', points: many }, 'form');
    expectError(res, 400, 'invalid_request');
    expect(res.body.error.message).toMatch(/at most 5000/);
    const bad = await push('/cgi/chart', 'newsroom', { channel: 'stocks', series: 'ACME', points: [[base + 5000, 1], [base + 5001, 'x']] }, 'json');
    expectError(bad, 400, 'invalid_request');
    expect(await charts({ channel: 'stocks', series: 'ACME' })).toEqual(before);
  });

  it('takes exactly PORTAL_LIMITS.chartPointsPerPost points', async () => {
    const many = Array.from({ length: 5000 }, (_, i) => [(base + i) * 1000, i]);
    const res = await push('/cgi/chart', 'newsroom', { channel: 'stocks', series: 'MANY', points: many }, 'json');
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.points).toBe(5000);
    const [series] = await charts({ series: 'MANY' });
    expect(series.points).toHaveLength(2000); // PORTAL_LIMITS.chartPointsKept: the newest
    expect(series.points[0]).toEqual([(base + 3000) * 1000, 3000]);
  });

  it('refuses a channel the provider was not granted (403) and stores nothing', async () => {
    expectError(await push('/cgi/chart', 'outsider', { channel: 'stocks', series: 'NOPE', points: `${base}:1` }, 'form'), 403, 'forbidden');
    expect(await charts({ series: 'NOPE' })).toEqual([]);
  });

  it('answers 400 (not 500) for points nested 500,000 deep, as JSON, inside a point, or as JSON text in a form field', async () => {
    const deep = '['.repeat(500_000) + ']'.repeat(500_000); // JSON.stringify cannot make this: written by hand
    const raw = (body: string, type: string) =>
      fetch(`${server.url}/cgi/chart`, { method: 'POST', headers: { authorization: `Bearer ${keys.newsroom}`, 'content-type': type }, body }).then(reply);
    const cases: Array<[string, Promise<{ status: number; body: any; headers: Headers }>]> = [
      ['JSON body', raw(`{"channel":"stocks","series":"DEEP","points":${deep}}`, 'application/json')],
      ['deep time in a point', raw(`{"channel":"stocks","series":"DEEP","points":[[${deep},1]]}`, 'application/json')],
      ['deep value in a point', raw(`{"channel":"stocks","series":"DEEP","points":[{"time":1,"value":${deep}}]}`, 'application/json')],
      // Percent-encoding triples the brackets: 150,000 deep stays under the 1 MiB body limit.
      ['JSON text in a form field', raw(new URLSearchParams({ channel: 'stocks', series: 'DEEP', points: '['.repeat(150_000) + ']'.repeat(150_000) }).toString(), 'application/x-www-form-urlencoded')],
    ];
    for (const [what, pending] of cases) {
      const res = await pending;
      expectError(res, 400, 'invalid_request', what, { strict: true });
      expect(res.body.error.message, what).toMatch(/points/);
      expect(res.body.error.message, what).toMatch(/deep/);
    }
    expect(await charts({ series: 'DEEP' })).toEqual([]);
  });

  it('lists series by channel and by series', async () => {
    const all = await charts({});
    expect(all.map((s) => s.series)).toEqual(expect.arrayContaining(['ACME', 'HELD', 'DUP', 'MANY']));
    expect((await charts({ channel: 'stocks' })).every((s) => s.channel === 'stocks')).toBe(true);
    expect(await charts({ channel: 'weather' })).toEqual([]);
    expectError(await reader.get('/api/v1/charts?bogus=1'), 400, 'invalid_request');
  });
});

describe('links area', () => {
  it('is empty until an administrator sets it, then every user reads it, and a links.changed event goes out', async () => {
    const empty = await reader.get('/api/v1/links');
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({ html: '' });

    await reader.poll(0);
    const html = '<h4>Office</h4><ul><li><a href="https://intranet.example/canteen">Canteen</a></li><li><a href="mailto:it@example.com">IT</a></li></ul>';
    const put = await server.admin.put('/api/v1/admin/links', { html });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(LinksResponse.safeParse(put.body).success).toBe(true);
    const expected =
      '<h4>Office</h4><ul><li><a rel="noopener noreferrer" target="_blank" href="https://intranet.example/canteen">Canteen</a></li>' +
      '<li><a rel="noopener noreferrer" target="_blank" href="mailto:it@example.com">IT</a></li></ul>';
    expect(put.body).toEqual({ html: expected, updatedAt: expect.any(String) });

    const got = await reader.get('/api/v1/links');
    expect(got.body).toEqual(put.body);
    const event = await reader.waitFor('links.changed');
    expect(event.html).toBe(expected);
  });

  it('stores and serves XSS payloads inert', async () => {
    const put = await server.admin.put('/api/v1/admin/links', { html: XSS.join('\n') });
    expect(put.status).toBe(200);
    expectInertHtml(put.body.html, 'PUT answer');
    const got = await reader.get('/api/v1/links');
    expect(got.body.html).toBe(put.body.html);
    expectInertHtml(got.body.html, 'GET');
    expect(got.body.html).toContain('<p>Hello</p>');
  });

  it('is set by administrators only (403 for a user, 401 without a session), leaving it as it was', async () => {
    const before = (await reader.get('/api/v1/links')).body;
    expectError(await reader.put('/api/v1/admin/links', { html: '<p>mine</p>' }), 403, 'forbidden');
    expect((await new Client(server.url).put('/api/v1/admin/links', { html: '<p>anon</p>' })).status).toBe(401);
    expect((await reader.get('/api/v1/links')).body).toEqual(before);
  });

  it('can be cleared', async () => {
    const put = await server.admin.put('/api/v1/admin/links', { html: '' });
    expect(put.body.html).toBe('');
    expect((await reader.get('/api/v1/links')).body.html).toBe('');
  });
});
