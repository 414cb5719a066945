/**
 * Me (issue 17): my profile as I see it, my name, status message, do-not-disturb, picture, and
 * the chats I muted. Every change is told to my other devices and, where others see it, to them
 * (rules.ts). The password change is in auth/routes.ts, with the login limits it counts toward.
 */
import type { Context } from 'koa';
import {
  AVATAR_TYPES,
  ChatMuteResponse,
  ChatParams,
  MeResponse,
  MuteRequest,
  PatchMeRequest,
  PEOPLE_LIMITS,
} from '../../../shared/index.js';
import type { Services } from '../context.js';
import { AppError, notFound } from '../errors.js';
import { rawBodyWithin } from '../http/body.js';
import { route } from '../http/route.js';
import type { ProfileChange, UserRecord } from '../store/store.js';
import { AvatarStorage } from './avatars.js';
import { changeProfile, muteChat } from './rules.js';
import { meView } from './views.js';

/** How long a picture (at most 5 MiB) may take to arrive. */
const AVATAR_BODY_DEADLINE_MS = 60_000;

async function readPicture(ctx: Context): Promise<Buffer> {
  try {
    return await rawBodyWithin(ctx.req, ctx.res, PEOPLE_LIMITS.avatarBytes, AVATAR_BODY_DEADLINE_MS);
  } catch (error: any) {
    if (error instanceof AppError) throw error;
    if (error?.type === 'entity.too.large') throw new AppError(413, 'body_too_large', `the picture may have at most ${PEOPLE_LIMITS.avatarBytes} bytes`);
    if (error?.type === 'request.size.invalid') throw new AppError(400, 'invalid_request', 'the body is shorter or longer than Content-Length');
    throw new AppError(400, 'invalid_request', 'the request body could not be read');
  }
}

export function meRoutes({ store, presence, config, secret }: Services) {
  const avatars = new AvatarStorage(config.dataDir, secret);
  const presenceOf = (u: UserRecord) => presence.effective(u);
  const me = (u: UserRecord) => ({ user: meView(u, presenceOf(u)) });

  /** One profile change; a picture nobody uses any more is deleted after the commit. */
  async function change(userId: number, fields: ProfileChange) {
    const { before, after, oldPictureUsers } = await store.write(async (tx) => {
      const changed = await changeProfile(tx, userId, fields, presenceOf);
      const old = changed.before.avatar;
      return { ...changed, oldPictureUsers: old && old !== changed.after.avatar ? await tx.avatarUsers(old) : undefined };
    });
    if (oldPictureUsers === 0) await avatars.remove(before.avatar!);
    return me(after);
  }

  return [
    route({
      method: 'get',
      path: '/api/v1/me',
      tag: 'me',
      summary: 'Who this token belongs to: name, picture, status message, presence, do-not-disturb',
      access: 'user',
      response: MeResponse,
      async handler({ session: { user } }) {
        return me(user);
      },
    }),
    route({
      method: 'patch',
      path: '/api/v1/me',
      tag: 'me',
      summary:
        'Change my display name, status message ({emoji?, text, until?}; null clears it; hidden once `until` has passed), ' +
        'do-not-disturb (dndUntil: a time, or null) and whether mentions notify me while busy; my contacts and chat partners get user.updated, my other devices me.updated',
      access: 'user',
      body: PatchMeRequest,
      response: MeResponse,
      async handler({ body, session: { user } }) {
        const fields: ProfileChange = {};
        if (body.displayName !== undefined) fields.displayName = body.displayName;
        if (body.status !== undefined) {
          fields.status =
            body.status === null
              ? null
              : {
                  ...(body.status.emoji !== undefined ? { emoji: body.status.emoji } : {}),
                  text: body.status.text,
                  ...(body.status.until !== undefined ? { until: Date.parse(body.status.until) } : {}),
                };
        }
        if (body.dndUntil !== undefined) fields.dndUntil = body.dndUntil === null ? null : Date.parse(body.dndUntil);
        if (body.notifyMentionsWhenBusy !== undefined) fields.notifyMentionsWhenBusy = body.notifyMentionsWhenBusy;
        return change(user.id, fields);
      },
    }),
    route({
      method: 'put',
      path: '/api/v1/me/avatar',
      tag: 'me',
      summary:
        `Set my picture: the image itself as the body (PNG, JPEG, WebP or GIF, read from the bytes; at most ${PEOPLE_LIMITS.avatarBytes} bytes). ` +
        `Stored as a ${PEOPLE_LIMITS.avatarSize} px square WebP without metadata, served at the answer's avatarUrl without a token`,
      access: 'user',
      rawBody: { types: [...AVATAR_TYPES, 'application/octet-stream'], maxBytes: PEOPLE_LIMITS.avatarBytes, description: 'the picture' },
      errors: [413, 415],
      response: MeResponse,
      async handler({ session: { user } }, ctx) {
        const upload = await readPicture(ctx);
        if (upload.length === 0) throw new AppError(400, 'invalid_request', 'the body is empty: send the picture as the body');
        const { key, bytes } = await avatars.process(upload);
        await avatars.save(key, bytes);
        return change(user.id, { avatar: key });
      },
    }),
    route({
      method: 'delete',
      path: '/api/v1/me/avatar',
      tag: 'me',
      summary: 'Remove my picture (initials are shown again)',
      access: 'user',
      response: MeResponse,
      async handler({ session: { user } }) {
        return change(user.id, { avatar: null });
      },
    }),
    route({
      method: 'put',
      path: '/api/v1/chats/:id/mute',
      tag: 'me',
      summary: 'Mute a chat for me ({muted: true, until?}: until a time, or until unmuted) or unmute it ({muted: false}); my other devices get chat.muted',
      access: 'user',
      params: ChatParams,
      body: MuteRequest,
      response: ChatMuteResponse,
      errors: [404],
      async handler({ params, body, session: { user } }) {
        const until = body.until === undefined ? null : Date.parse(body.until);
        const mute = await store.write((tx) => muteChat(tx, user.id, params.id, body.muted, until));
        if (!mute) throw notFound('chat');
        return { mute };
      },
    }),
  ];
}
