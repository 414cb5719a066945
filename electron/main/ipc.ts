/**
 * Every IPC channel the renderer may invoke, with its payload schema, and the one check each
 * handler runs first: the sending frame is the top frame of the renderer app on the configured
 * server (`<serverUrl>/app/...`), and the payload matches the channel's schema.
 */
import { z } from 'zod';
import { ChatId, PresenceState } from '../../shared/schemas.js';
import { INVOKE, type InvokeChannel } from '../preload/bridge.js';
import { KEY_SCHEMAS, SETTABLE_KEYS, type ConfigKey } from './config.js';
import { MAX_EXTERNAL_URL_LENGTH, isAppUrl, safeExternalUrl } from './urls.js';

const NoPayload = z.undefined({ error: 'takes no payload' });

const SetSetting = z.strictObject({
  key: z.enum(SETTABLE_KEYS as [string, ...string[]], { error: `key must be one of ${SETTABLE_KEYS.join(', ')}` }),
  value: z.unknown(),
});

export const IPC_SCHEMAS = {
  [INVOKE.openExternal]: z.strictObject({
    url: z
      .string()
      .max(MAX_EXTERNAL_URL_LENGTH)
      .transform((url, context) => {
        const safe = safeExternalUrl(url);
        if (safe === null) {
          context.addIssue({ code: 'custom', message: 'only http:, https: and mailto: URLs without credentials may be opened' });
          return z.NEVER;
        }
        return safe;
      }),
  }),
  [INVOKE.notify]: z.strictObject({
    title: z.string().trim().min(1).max(200),
    body: z.string().max(1000).optional(),
    tag: z.string().min(1).max(200),
    actions: z
      .array(z.enum(['accept', 'decline']))
      .max(2)
      .refine((actions) => new Set(actions).size === actions.length, 'actions must not repeat')
      .optional(),
  }),
  [INVOKE.setBadge]: z.strictObject({ count: z.number().int().min(0).max(99_999) }),
  [INVOKE.presenceChanged]: z.strictObject({ state: PresenceState, byUser: z.boolean() }),
  [INVOKE.dndChanged]: z.strictObject({ until: z.iso.datetime({ offset: true }).nullable() }),
  [INVOKE.getConfig]: NoPayload,
  [INVOKE.setSetting]: SetSetting,
  [INVOKE.openChat]: z.strictObject({ chatId: ChatId }),
  [INVOKE.quit]: NoPayload,
  [INVOKE.clientInfo]: NoPayload,
  [INVOKE.ssoSignIn]: NoPayload,
  [INVOKE.displayPicker]: z.strictObject({ on: z.boolean() }),
  // Whether the id is one this page was offered is display-media.ts's check (DisplayPicker.answer).
  [INVOKE.displaySourceChosen]: z.strictObject({ requestId: z.string().min(1).max(100), sourceId: z.string().min(1).max(200).nullable() }),
} satisfies Record<InvokeChannel, z.ZodType>;

export type IpcPayload<C extends InvokeChannel> = z.output<(typeof IPC_SCHEMAS)[C]>;
export type IpcResult<C extends InvokeChannel> = { ok: true; channel: C; payload: IpcPayload<C> } | { ok: false; error: string };

export interface IpcOptions {
  /** Keys the administrator locked: set-setting refuses them. */
  locked?: readonly ConfigKey[];
  /** False when the sender is a sub-frame (iframe): only the top frame may call. */
  isMainFrame?: boolean;
}

export function isInvokeChannel(channel: string): channel is InvokeChannel {
  return Object.hasOwn(IPC_SCHEMAS, channel);
}

/**
 * Checks one IPC call. `serverUrl` is the configured server address (origin plus optional path
 * prefix); the sender must be a page under its /app/. Never throws.
 */
export function validateIpc<C extends InvokeChannel>(
  channel: C,
  senderUrl: string | undefined,
  payload: unknown,
  serverUrl: string | undefined,
  options: IpcOptions = {},
): IpcResult<C> {
  if (!isInvokeChannel(channel)) return { ok: false, error: `unknown channel ${JSON.stringify(channel)}` };
  if (options.isMainFrame === false) return { ok: false, error: `${channel}: refused from a sub-frame` };
  if (!isAppUrl(senderUrl, serverUrl)) return { ok: false, error: `${channel}: refused from ${JSON.stringify(String(senderUrl).slice(0, 200))}` };

  const parsed = IPC_SCHEMAS[channel].safeParse(payload);
  if (!parsed.success) return { ok: false, error: `${channel}: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}` };

  if (channel === INVOKE.setSetting) {
    const { key, value } = parsed.data as z.output<typeof SetSetting>;
    const configKey = key as ConfigKey;
    if (options.locked?.includes(configKey)) return { ok: false, error: `${channel}: "${key}" is locked by the administrator` };
    const checked = KEY_SCHEMAS[configKey].safeParse(value);
    if (!checked.success) return { ok: false, error: `${channel}: "${key}": ${z.prettifyError(checked.error).replace(/\n/g, '; ')}` };
    return { ok: true, channel, payload: { key, value: checked.data } as IpcPayload<C> };
  }
  return { ok: true, channel, payload: parsed.data as IpcPayload<C> };
}
