/**
 * Files in chats: the upload (a route declaration: the body is read here, streamed to disk after
 * the sender is known to be a member) and the serving of a file or its thumbnail (mounted on the
 * router, as media are: the answer is a file, with ranges and conditional requests, for a
 * member's token or for a signed path).
 */
import type Router from '@koa/router';
import { rm } from 'node:fs/promises';
import type { Context } from 'koa';
import { ChatFileParams, ChatFileResponse, ChatFileUploadQuery, ChatParams } from '../../../shared/index.js';
import type { Services } from '../context.js';
import { forbidden, notFound } from '../errors.js';
import { PushBodyReader, refuseUnread } from '../http/push-body.js';
import { route, type Gates } from '../http/route.js';
import { fileSize, MEDIA_CSP, sendFile } from '../media/serve.js';
import { ChatFiles, showsInline, signatureAllows, toChatFile } from './files.js';

const MiB = 1024 * 1024;
/** Signed paths live some hours: browsers may keep what they loaded for one. */
const CACHE = 'private, max-age=3600';

export function chatFileRoutes({ store, config }: Services) {
  const files = new ChatFiles(store, config.dataDir);
  const reader = new PushBodyReader(`${config.dataDir}/tmp`, config);
  const maxBytes = config.chatFileMb * MiB;
  return [
    route({
      method: 'post',
      path: '/api/v1/chats/:id/files',
      tag: 'chat',
      summary:
        `Upload a file to a chat (members taking part only), to send it with a message (PUT .../messages/:clientId {files: [id]}): the file as the body ` +
        `with \`?name=<file name>\`, or multipart/form-data with the file in the field "file". At most ${config.chatFileMb} MiB (PORTICO_CHAT_FILE_MB). ` +
        'Its type is read from the bytes, whatever the name or Content-Type say. A file no message carries is deleted a day after its upload.',
      access: 'user',
      params: ChatParams,
      query: ChatFileUploadQuery,
      rawBody: { types: ['application/octet-stream', 'multipart/form-data'], maxBytes, description: 'the file (any type)' },
      errors: [404, 408, 429],
      response: ChatFileResponse,
      status: 201,
      async handler({ params, query, session: { user } }, ctx: Context) {
        // Before a byte of the body is read: who sends, and to which chat.
        if (!(await files.isMember(user, params.id))) throw refuseUnread(ctx, notFound('chat'));
        const held = reader.hold();
        try {
          const { fields, file } = await reader.readFile(ctx, maxBytes, `u:${user.id}`, held);
          try {
            const name = query.name ?? (typeof fields.name === 'string' ? fields.name : file.filename);
            return { file: toChatFile(await files.add(user, params.id, file, name)) };
          } finally {
            await rm(file.path, { force: true });
          }
        } finally {
          held.release();
        }
      },
    }),
  ];
}

/** GET (and HEAD) of a file and of its thumbnail: a member's bearer token, or the signed path (`?exp=&sig=`). */
export function chatFileServing(router: Router, { store, secret, config }: Services, authenticate: Gates['authenticate']) {
  const files = new ChatFiles(store, config.dataDir);
  const serve = (thumbnail: boolean) => async (ctx: Context) => {
    ctx.state.route = `/api/v1/chats/:id/files/:fileId${thumbnail ? '/thumbnail' : ''}`;
    const { exp, sig } = ctx.query;
    const signed = exp !== undefined || sig !== undefined;
    if (!signed) await authenticate(ctx, 'user');
    const params = ChatFileParams.safeParse({ id: ctx.params.id, fileId: ctx.params.fileId });
    if (signed && !(params.success && typeof exp === 'string' && typeof sig === 'string' && signatureAllows(secret, params.data.id, params.data.fileId, thumbnail, exp, sig))) {
      throw forbidden('this file link is invalid or has expired; read the message again for a fresh one');
    }
    if (!params.success) throw notFound('file');
    const { id: chatId, fileId } = params.data;
    // A member's token: only a file of a message they may read (a chat's history 'since_added').
    const file = await store.chatFile(fileId, signed ? undefined : ctx.state.session.user.id);
    // Members taking part only: to anyone else the file does not exist.
    if (!file || file.chatId !== chatId || (!signed && (await store.chatById(chatId))?.memberStatus.get(ctx.state.session.user.id) !== 'accepted')) {
      throw notFound('file');
    }
    const sha256 = thumbnail ? file.thumbSha256 : file.sha256;
    const path = sha256 ? files.content.path(sha256) : undefined;
    const size = path === undefined ? undefined : await fileSize(path);
    if (path === undefined || size === undefined) throw notFound(thumbnail ? 'thumbnail' : 'file');
    const type = thumbnail ? 'image/webp' : file.contentType;
    // Anything but images, audio and video is a download, never shown by the browser in place.
    ctx.attachment(file.name, { type: thumbnail || showsInline(type) ? 'inline' : 'attachment' });
    await sendFile(ctx, { path, size, type, etag: `"${sha256}"` }, { 'Cache-Control': CACHE, 'Content-Security-Policy': MEDIA_CSP });
  };
  router.get('/api/v1/chats/:id/files/:fileId', serve(false));
  router.get('/api/v1/chats/:id/files/:fileId/thumbnail', serve(true));
}
