/**
 * Demo content provider: fills a running Portico server with made-up portal content, the way a
 * shell script with curl would, so the panel has something to show.
 *
 *   npm run demo:provider                      # every ~10 s until Ctrl+C
 *   npm run demo:provider -- --once            # one round, then exit (items stay 10 minutes)
 *
 * Options: --url <base URL> (or PORTICO_URL, default http://127.0.0.1:8080),
 *          --admin-password <password> (or PORTICO_ADMIN_PASSWORD), --interval <seconds>, --once,
 *          --sign (sign each push instead of sending the key; the provider then must sign).
 *
 * As admin it creates the provider "demo" for the channels weather, stocks, news, horoscope and
 * company (if the provider exists, its key is rotated), titles the channels and sets the links
 * area; then, as the provider, it pushes rounds of form-encoded posts to /cgi/ticker, /cgi/chart
 * and /cgi/notice. It uses nothing but Node's fetch (and node:crypto for --sign).
 */
import { createHmac } from 'node:crypto';
import { parseArgs } from 'node:util';

const CHANNELS: Record<string, string> = {
  weather: 'Weather',
  stocks: 'Stocks',
  news: 'News',
  horoscope: 'Horoscope',
  company: 'Company',
};
const PROVIDER = 'demo';

const LINKS_HTML = `
<h4>Everyday</h4>
<ul>
  <li><a href="https://intranet.example.com/canteen">Canteen menu</a></li>
  <li><a href="https://intranet.example.com/rooms">Book a meeting room</a></li>
  <li><a href="https://intranet.example.com/phonebook">Phone book</a></li>
</ul>
<h4>Help</h4>
<ul>
  <li><a href="https://helpdesk.example.com/">IT helpdesk</a> or <a href="mailto:helpdesk@example.com">helpdesk@example.com</a></li>
  <li><a href="https://intranet.example.com/hr/holidays">Holiday calendar</a></li>
  <li><a href="https://intranet.example.com/finance/travel">Travel expenses</a></li>
</ul>
<p><small>Set by the Portico demo provider.</small></p>
`.trim();

const CITIES: Array<{ name: string; slug: string; temp: number }> = [
  { name: 'Berlin', slug: 'berlin', temp: 14 },
  { name: 'Hamburg', slug: 'hamburg', temp: 12 },
  { name: 'Munich', slug: 'munich', temp: 15 },
  { name: 'Vienna', slug: 'vienna', temp: 16 },
];
const SKIES = ['sunny', 'partly cloudy', 'cloudy', 'light rain', 'showers', 'fog', 'windy', 'clear'];

const STOCKS: Array<{ symbol: string; open: number }> = [
  { symbol: 'ACME', open: 120 },
  { symbol: 'GLOBEX', open: 54.2 },
  { symbol: 'INITECH', open: 33.5 },
  { symbol: 'UMBRELLA', open: 210.8 },
];

const HEADLINES = [
  'New coffee machines arrive on every floor next week',
  'Quarterly all-hands moved to Thursday, 3 pm',
  'City opens a second bike lane along the river',
  'Local team wins the regional five-a-side cup',
  'Library extends its opening hours for the exam season',
  'Rail operator announces weekend works on the north line',
  'Recycling: new bins for batteries at the reception',
  'Open-source project of the month: the office plant tracker',
  'Science museum opens an exhibition on early computers',
  'Heatwave ends: cooler days ahead, forecasters say',
];

const SIGNS = [
  ['♈', 'Aries'],
  ['♉', 'Taurus'],
  ['♊', 'Gemini'],
  ['♋', 'Cancer'],
  ['♌', 'Leo'],
  ['♍', 'Virgo'],
  ['♎', 'Libra'],
  ['♏', 'Scorpio'],
  ['♐', 'Sagittarius'],
  ['♑', 'Capricorn'],
  ['♒', 'Aquarius'],
  ['♓', 'Pisces'],
] as const;
const FORECASTS = [
  'a meeting ends early',
  'an old idea finds a new use',
  'the coffee is exactly right',
  'a colleague needs your patience',
  'a small risk pays off',
  'your inbox reaches zero, briefly',
  'a walk at lunch clears your head',
  'someone returns a borrowed pen',
];
const ADVICE = ['Say yes once more than usual.', 'Write it down.', 'Take the stairs.', 'Ask the obvious question.', 'Leave on time.'];

const OFFICE_LINES = [
  'Canteen today: lentil soup, vegetable curry, apple pie',
  'Reminder: the 4th floor kitchen is cleaned on Fridays',
  'Parking garage level -2 is closed for painting this week',
  'First-aid course next Tuesday: sign up at the reception',
];

const USAGE = `Usage: npm run demo:provider -- [--once] [--sign] [--url URL] [--admin-password PASSWORD] [--interval SECONDS]

Pushes demo content (weather, stocks, news, horoscope, company) to a running Portico server.
  --once                     one round, then exit
  --url URL                  the server (default: $PORTICO_URL or http://127.0.0.1:8080)
  --admin-password PASSWORD  the admin password (default: $PORTICO_ADMIN_PASSWORD)
  --interval SECONDS         seconds between rounds (default 10)
  --sign                     sign each push (X-Portico-Signature) instead of sending the key;
                             the provider is made to require signatures`;

class Failure extends Error {}

const time = () => new Date().toTimeString().slice(0, 8);
const say = (what: string) => console.log(`[${time()}] ${what}`);
const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)]!;
const round2 = (n: number) => Math.round(n * 100) / 100;
/** A small deterministic hash, so a day's horoscope stays the same all day. */
const hash = (s: string) => [...s].reduce((h, c) => (Math.imul(h, 31) + c.codePointAt(0)!) >>> 0, 7);

async function main() {
  const { values } = parseArgs({
    options: {
      once: { type: 'boolean', default: false },
      url: { type: 'string' },
      'admin-password': { type: 'string' },
      interval: { type: 'string', default: '10' },
      sign: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const base = (values.url ?? process.env.PORTICO_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  const password = values['admin-password'] ?? process.env.PORTICO_ADMIN_PASSWORD;
  const interval = Number(values.interval);
  if (!password) throw new Failure('give the admin password: --admin-password or PORTICO_ADMIN_PASSWORD');
  if (!Number.isFinite(interval) || interval < 1) throw new Failure('--interval: seconds, at least 1');
  const { once, sign } = values;

  const key = await setUp(base, password, sign);
  const demo = new Demo(base, key, once ? 600 : Math.max(30, interval * 3), sign);
  say(`pushing ${once ? 'one round' : `a round every ${interval} s (Ctrl+C stops)`}; each push is a form post like:`);
  if (sign) {
    say(`  TS=$(date +%s); BODY='channel=news&text=Hello&expires=60'`);
    say(`  SIG=$(printf '%s' "$TS.POST./cgi/ticker.$BODY" | openssl dgst -sha256 -hmac "$KEY" | cut -d' ' -f2)`);
    say(`  curl -H "X-Portico-Provider: ${PROVIDER}" -H "X-Portico-Timestamp: $TS" -H "X-Portico-Signature: sha256=$SIG" --data-raw "$BODY" ${base}/cgi/ticker`);
  } else {
    say(`  curl -H "Authorization: Bearer $KEY" -d channel=news -d "text=Hello" -d expires=60 ${base}/cgi/ticker`);
  }

  let stop = false;
  let wake = () => {};
  process.on('SIGINT', () => {
    if (stop) process.exit(130);
    stop = true;
    say('stopping (Ctrl+C again to quit at once)');
    wake();
  });
  for (let round = 0; !stop; round++) {
    await demo.round(round);
    if (once) break;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, interval * 1000);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
  say(`done: ${demo.pushed} pushes, ${demo.failed} failed`);
  return demo.failed > 0 && once ? 1 : 0;
}

/** The admin part: the provider (created, or its key rotated), channel titles, the links area. Answers the provider key. */
async function setUp(base: string, password: string, sign: boolean): Promise<string> {
  let token: string | undefined;
  const call = async (method: string, path: string, body?: unknown) => {
    let res: Response;
    try {
      res = await fetch(base + path, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new Failure(`cannot reach ${base} (${(error as Error).cause ?? error}); is the server running? (PORTICO_URL, --url)`);
    }
    const text = await res.text();
    const json = text ? (JSON.parse(text) as any) : {};
    if (!res.ok) throw new Failure(`${method} ${path}: ${res.status} ${json?.error?.message ?? text}`);
    return json;
  };

  token = (await call('POST', '/api/v1/login', { username: 'admin', password })).token;
  say(`logged in to ${base} as admin`);
  try {
    const wanted = Object.keys(CHANNELS);
    const existing = (
      (await call('GET', '/api/v1/admin/providers')).providers as Array<{ name: string; channels: string[]; requireSignature: boolean }>
    ).find((p) => p.name.toLowerCase() === PROVIDER);
    let key: string;
    if (existing && wanted.every((c) => existing.channels.includes(c)) && existing.requireSignature === sign) {
      key = (await call('POST', `/api/v1/admin/providers/${PROVIDER}/key`)).key;
      say(`provider ${PROVIDER} exists: rotated its key (${key.slice(0, 6)}…)`);
    } else {
      if (existing) {
        await call('DELETE', `/api/v1/admin/providers/${PROVIDER}`);
        say(`provider ${PROVIDER} existed without all of its channels or with another signature setting: removed it`);
      }
      key = (await call('POST', '/api/v1/admin/providers', { name: PROVIDER, channels: wanted, requireSignature: sign })).key;
      say(`created provider ${PROVIDER} for ${wanted.join(', ')}${sign ? ', signing its pushes' : ''} (key ${key.slice(0, 6)}…)`);
    }
    for (const [name, title] of Object.entries(CHANNELS)) await call('PUT', `/api/v1/admin/channels/${name}`, { title });
    say(`titled the channels: ${Object.values(CHANNELS).join(', ')}`);
    await call('PUT', '/api/v1/admin/links', { html: LINKS_HTML });
    say('set the links area (canteen, rooms, phone book, helpdesk, holidays, travel expenses)');
    return key;
  } finally {
    await call('POST', '/api/v1/logout').catch(() => {});
  }
}

/** The provider part: rounds of pushes. */
class Demo {
  pushed = 0;
  failed = 0;
  private readonly prices = new Map(STOCKS.map((s) => [s.symbol, s.open]));
  private horoscopeDay = '';
  private headline = Math.floor(Math.random() * HEADLINES.length);

  constructor(
    private readonly base: string,
    private readonly key: string,
    /** Seconds the ticker items of a round stay. */
    private readonly ttl: number,
    /** Sign each push instead of sending the key. */
    private readonly sign: boolean,
  ) {}

  /**
   * Who sends: the key as a bearer token, or (--sign) the provider's name and the hex
   * HMAC-SHA256 of "<timestamp>.<METHOD>.<path>.<raw body>" under the key, fresh per attempt
   * (the server accepts each signature once).
   */
  private credentials(url: string, body: string): Record<string, string> {
    if (!this.sign) return { authorization: `Bearer ${this.key}` };
    const ts = Math.floor(Date.now() / 1000);
    const mac = createHmac('sha256', this.key).update(`${ts}.POST.${new URL(url).pathname}.${body}`).digest('hex');
    return { 'x-portico-provider': PROVIDER, 'x-portico-timestamp': String(ts), 'x-portico-signature': `sha256=${mac}` };
  }

  /** One form-encoded POST, like `curl -H "Authorization: Bearer $KEY" -d field=value ...`; waits once when rate limited. */
  private async post(path: string, fields: Record<string, string>, show: string): Promise<boolean> {
    const url = this.base + path;
    const body = new URLSearchParams(fields).toString();
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...this.credentials(url, body) },
          body,
        });
      } catch (error) {
        this.failed++;
        say(`FAILED ${path}: ${(error as Error).cause ?? error}`);
        return false;
      }
      const text = await res.text();
      if (res.status === 429 && attempt === 0) {
        const wait = Number(res.headers.get('retry-after')) || 5;
        say(`rate limited: waiting ${wait} s`);
        await new Promise((r) => setTimeout(r, wait * 1000));
        continue;
      }
      if (!res.ok) {
        this.failed++;
        let message = text;
        try {
          message = JSON.parse(text).error.message;
        } catch {
          /* not JSON */
        }
        say(`FAILED ${path} ${fields.channel}: ${res.status} ${message}`);
        return false;
      }
      this.pushed++;
      say(`${path.padEnd(11)} ${(fields.channel ?? '').padEnd(9)} ${show}`);
      return true;
    }
  }

  private ticker(channel: string, text: string, extra: Record<string, string> = {}) {
    return this.post('/cgi/ticker', { channel, text, expires: String(this.ttl), ...extra }, text);
  }

  async round(n: number) {
    await this.weather();
    await this.stocks(n === 0);
    await this.news();
    await this.horoscope();
    await this.company(n);
  }

  private async weather() {
    for (const city of CITIES) {
      const temp = Math.round(city.temp + (Math.random() - 0.5) * 6);
      const wind = 5 + Math.floor(Math.random() * 25);
      await this.ticker('weather', `${city.name}: ${temp} °C, ${pick(SKIES)}, wind ${wind} km/h`, {
        url: `https://weather.example.com/${city.slug}`,
      });
    }
  }

  /** A random walk per symbol: a ticker item, and the price as a chart point (the first round backfills an hour). */
  private async stocks(backfill: boolean) {
    const now = Math.floor(Date.now() / 1000);
    for (const { symbol, open } of STOCKS) {
      const points: Array<[number, number]> = [];
      let price = this.prices.get(symbol)!;
      const steps = backfill ? 60 : 1;
      for (let i = steps - 1; i >= 0; i--) {
        price = round2(Math.max(1, price * (1 + (Math.random() - 0.5) * 0.01)));
        points.push([now - i * 60, price]);
      }
      this.prices.set(symbol, price);
      const change = ((price - open) / open) * 100;
      const arrow = change >= 0 ? '▲' : '▼';
      await this.ticker('stocks', `${symbol} ${price.toFixed(2)} EUR ${arrow} ${change >= 0 ? '+' : ''}${change.toFixed(2)} %`, {
        url: `https://finance.example.com/quote/${symbol.toLowerCase()}`,
      });
      await this.post(
        '/cgi/chart',
        { channel: 'stocks', series: symbol, unit: 'EUR', points: points.map(([t, v]) => `${t}:${v}`).join(',') },
        `${symbol}: ${points.length} point${points.length === 1 ? '' : 's'} (last ${price.toFixed(2)} EUR)`,
      );
    }
  }

  private async news() {
    for (let i = 0; i < 2; i++) {
      this.headline = (this.headline + 1) % HEADLINES.length;
      const text = HEADLINES[this.headline]!;
      const slug = text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
      await this.ticker('news', text, { url: `https://news.example.com/${slug}` });
    }
  }

  /** Once a day: a horoscope per sign, until midnight. */
  private async horoscope() {
    const today = new Date().toDateString();
    if (today === this.horoscopeDay) return;
    const midnight = new Date();
    midnight.setHours(24, 0, 0, 0);
    const until = new Date(Math.max(midnight.getTime(), Date.now() + this.ttl * 1000));
    let ok = true;
    for (const [symbol, sign] of SIGNS) {
      const h = hash(today + sign);
      const text = `${symbol} ${sign}: today ${FORECASTS[h % FORECASTS.length]}. ${ADVICE[(h >>> 8) % ADVICE.length]}`;
      ok = (await this.post('/cgi/ticker', { channel: 'horoscope', text, expires: until.toISOString() }, text)) && ok;
    }
    if (ok) this.horoscopeDay = today;
  }

  /** An office line every round; a notice on the first round and every 30 minutes or so. */
  private async company(n: number) {
    await this.ticker('company', OFFICE_LINES[n % OFFICE_LINES.length]!, { priority: '5' });
    if (n % 180 !== 0) return;
    const ends = Math.floor(Date.now() / 1000) + 35 * 60;
    const html =
      '<h4>Fire drill on Thursday</h4>' +
      '<p>The alarm will sound at <b>10:00</b>. Please leave by the nearest staircase and meet at the car park. ' +
      'Details: <a href="https://intranet.example.com/safety/fire-drill">safety page</a>.</p>';
    await this.post('/cgi/notice', { channel: 'company', html, priority: '10', ends: String(ends) }, 'notice: Fire drill on Thursday');
  }
}

// Output piped into `head` and the like: stop quietly when the reader goes away.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error instanceof Failure ? `demo-provider: ${error.message}` : error);
    process.exit(error instanceof Failure ? 2 : 1);
  },
);
