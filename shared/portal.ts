/**
 * The portal content of the panel: channels, provider pushes (ticker, charts, media, notices),
 * the links area. Provider text is untrusted: it travels as data, never as markup, except notice
 * and links HTML, which the server sanitizes before storing.
 */
import { z } from 'zod';

export const PORTAL_LIMITS = {
  tickerTextChars: 500,
  noticeTextChars: 2000,
  noticeHtmlChars: 20_000,
  linksHtmlChars: 50_000,
  titleChars: 200,
  urlChars: 2000,
  /** Live items per channel shown to a client. */
  liveItemsPerChannel: 20,
  chartPointsPerPost: 5000,
  /** Points kept per chart series (older ones are dropped). */
  chartPointsKept: 2000,
  mediaBytes: { image: 10 * 2 ** 20, audio: 50 * 2 ** 20, video: 500 * 2 ** 20, game: 50 * 2 ** 20 },
  /** Unpacked size and file count of a game/mini-app archive. */
  gameUnpackedBytes: 200 * 2 ** 20,
  gameFiles: 2000,
} as const;

export const ChannelName = z
  .string()
  .min(1)
  .max(40)
  .regex(/^[a-z0-9][a-z0-9._-]*$/i, 'letters, digits, dot, dash and underscore');
export const ProviderName = ChannelName;

/** http(s) links only: what the panel may open in the system browser. */
export const WebUrl = z
  .string()
  .max(PORTAL_LIMITS.urlChars)
  .refine((v) => {
    try {
      return ['http:', 'https:'].includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, 'must be an http or https URL');

/** A time as ISO 8601 or Unix seconds (what a shell script has at hand: `date +%s`). */
export const TimeInput = z.union([z.number(), z.string().min(1)]).transform((v, ctx) => {
  const ms = typeof v === 'number' || /^\d+(\.\d+)?$/.test(v) ? Number(v) * 1000 : Date.parse(v);
  if (!Number.isFinite(ms)) {
    ctx.addIssue({ code: 'custom', message: 'must be ISO 8601 or Unix seconds' });
    return z.NEVER;
  }
  return ms;
});
/** A duration in seconds, or an absolute time, for `expires`: "3600" and "2026-12-01T10:00Z" both work. */
export const ExpiresInput = z.union([z.number(), z.string().min(1)]).transform((v, ctx) => {
  const s = String(v);
  if (/^\d+$/.test(s) && Number(s) < 10 ** 9) return Date.now() + Number(s) * 1000; // seconds from now
  const ms = /^\d+(\.\d+)?$/.test(s) ? Number(s) * 1000 : Date.parse(s);
  if (!Number.isFinite(ms)) {
    ctx.addIssue({ code: 'custom', message: 'seconds from now, Unix seconds, or ISO 8601' });
    return z.NEVER;
  }
  return ms;
});
const Priority = z.coerce.number().int().min(-100).max(100).default(0);

// ---------- provider pushes (form fields or JSON; form values arrive as strings) ----------
export const TickerPush = z.strictObject({
  channel: ChannelName,
  text: z.string().trim().min(1).max(PORTAL_LIMITS.tickerTextChars),
  url: WebUrl.optional(),
  priority: Priority,
  expires: ExpiresInput.optional(),
});
/** How deep chart points may nest: [[time, value]] needs 2; the rest is room for a clear error message. */
export const CHART_POINTS_MAX_DEPTH = 10;

/**
 * Whether arrays/objects in `value` nest deeper than `max` levels. Iterative, so input nested
 * 500,000 deep (which JSON.parse accepts) is measured without overflowing the stack that
 * JSON.stringify, zod or a recursive walk would.
 */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}
const deepPointsMessage = `nested deeper than ${CHART_POINTS_MAX_DEPTH} levels; send [[time, value], ...] or [{"time": ..., "value": ...}, ...]`;

export const ChartPush = z.strictObject({
  channel: ChannelName,
  series: z.string().trim().min(1).max(60),
  /** JSON [[time, value], ...] or [{time, value}], or text "time:value,time:value". */
  points: z.unknown().refine((v) => !nestsDeeperThan(v, CHART_POINTS_MAX_DEPTH), deepPointsMessage),
  unit: z.string().max(20).optional(),
});
export const MediaPush = z.strictObject({
  channel: ChannelName,
  /** Absent or blank: the file's name. */
  title: z
    .string()
    .trim()
    .max(PORTAL_LIMITS.titleChars)
    .optional()
    .transform((t) => t || undefined),
  priority: Priority,
  expires: ExpiresInput.optional(),
});
export const NoticePush = z
  .strictObject({
    channel: ChannelName,
    text: z.string().trim().min(1).max(PORTAL_LIMITS.noticeTextChars).optional(),
    html: z.string().min(1).max(PORTAL_LIMITS.noticeHtmlChars).optional(),
    url: WebUrl.optional(),
    priority: Priority,
    starts: TimeInput.optional(),
    ends: TimeInput.optional(),
  })
  .refine((n) => (n.text === undefined) !== (n.html === undefined), 'give either text or html');
export const CreatedResponse = z.strictObject({ id: z.number().int(), channel: z.string() });

// ---------- what clients read ----------
export const TickerItem = z.strictObject({
  id: z.number().int(),
  channel: z.string(),
  text: z.string(),
  url: z.string().optional(),
  priority: z.number().int(),
  createdAt: z.string(),
  expiresAt: z.string().optional(),
});
export type TickerItem = z.infer<typeof TickerItem>;
export const MediaKind = z.enum(['video', 'image', 'audio', 'game']);
export const MediaItem = z.strictObject({
  id: z.number().int(),
  channel: z.string(),
  title: z.string(),
  kind: MediaKind,
  contentType: z.string(),
  size: z.number().int(),
  /** Where to load it: a signed, expiring path on this origin (a game's entry page for games). */
  url: z.string(),
  priority: z.number().int(),
  createdAt: z.string(),
  expiresAt: z.string().optional(),
});
export type MediaItem = z.infer<typeof MediaItem>;
export const ChartPoint = z.tuple([z.number(), z.number()]).describe('[Unix ms, value]');
export const ChartSeries = z.strictObject({
  channel: z.string(),
  series: z.string(),
  unit: z.string().optional(),
  points: z.array(ChartPoint),
});
export type ChartSeries = z.infer<typeof ChartSeries>;
export const Notice = z.strictObject({
  id: z.number().int(),
  channel: z.string(),
  text: z.string().optional(),
  /** Already sanitized by the server. */
  html: z.string().optional(),
  url: z.string().optional(),
  priority: z.number().int(),
  startsAt: z.string().optional(),
  endsAt: z.string().optional(),
  createdAt: z.string(),
});
export type Notice = z.infer<typeof Notice>;
export const Channel = z.strictObject({
  name: z.string(),
  title: z.string(),
  /** Shown to users who made no choice of their own. */
  isDefault: z.boolean(),
});

export const TickerResponse = z.strictObject({ items: z.array(TickerItem), channels: z.array(z.string()) });
export const MediaResponse = z.strictObject({ items: z.array(MediaItem) });
export const ChartsResponse = z.strictObject({ series: z.array(ChartSeries) });
export const ChartsQuery = z.strictObject({ channel: ChannelName.optional(), series: z.string().max(60).optional() });
export const NoticesResponse = z.strictObject({ notices: z.array(Notice) });
export const LinksResponse = z.strictObject({ html: z.string(), updatedAt: z.string().optional() });
export const ChannelsResponse = z.strictObject({ channels: z.array(Channel), mine: z.array(z.string()) });
export const MyChannelsRequest = z.strictObject({
  /** Ticker channels in the order to show them; empty = the defaults. */
  channels: z.array(ChannelName).max(100),
});

// ---------- admin ----------
export const CreateProviderRequest = z.strictObject({
  name: ProviderName,
  channels: z.array(ChannelName).min(1).max(50),
  requireSignature: z.boolean().default(false),
});
export const Provider = z.strictObject({
  id: z.number().int(),
  name: z.string(),
  channels: z.array(z.string()),
  requireSignature: z.boolean(),
  createdAt: z.string(),
});
export const ProviderWithKeyResponse = z.strictObject({ provider: Provider, key: z.string().describe('shown only now') });
export const ProvidersResponse = z.strictObject({ providers: z.array(Provider) });
export const ProviderParams = z.strictObject({ name: ProviderName });
export const SetProviderChannelsRequest = CreateProviderRequest.pick({ channels: true });
export const ProviderResponse = z.strictObject({ provider: Provider });
export const ChannelParams = z.strictObject({ name: ChannelName });
export const UpdateChannelRequest = z.strictObject({ title: z.string().trim().min(1).max(80).optional(), isDefault: z.boolean().optional() });
export const ChannelResponse = z.strictObject({ channel: Channel });
export const SetLinksRequest = z.strictObject({ html: z.string().max(PORTAL_LIMITS.linksHtmlChars) });
