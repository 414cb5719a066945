/**
 * Media pushed by providers (images, videos, audio, and games: zip archives of a small web app
 * with an index.html), and the list clients read. Files are kept content-addressed (storage.ts)
 * and handed out under signed, expiring paths (urls.ts, served by serve.ts).
 */
import { CreatedResponse, MediaPush, MediaResponse, PORTAL_LIMITS } from '../../../shared/index.js';
import type { Services } from '../context.js';
import { AppError } from '../errors.js';
import { route } from '../http/route.js';
import { ProviderGate } from '../providers/cgi.js';
import { classify, MAX_MEDIA_BYTES } from './kinds.js';
import { MediaStorage } from './storage.js';
import { mediaUrl } from './urls.js';

const mib = (bytes: number) => `${bytes / 2 ** 20} MiB`;

export function mediaRoutes({ store, secret, config }: Services) {
  const storage = new MediaStorage(config.dataDir);
  const limits = Object.entries(PORTAL_LIMITS.mediaBytes)
    .map(([kind, bytes]) => `${kind} ${mib(bytes)}`)
    .join(', ');
  return [
    route({
      method: 'post',
      path: '/cgi/media',
      tag: 'providers',
      summary:
        'Push a media item as multipart/form-data: file (image png/jpeg/gif/webp, video mp4/webm/ogv, audio mp3/ogg/oga/wav/m4a/weba, ' +
        `or a game: a zip with index.html at its root), channel, title, priority? (-100..100), expires?. Limits: ${limits}`,
      access: 'provider',
      body: MediaPush,
      response: CreatedResponse,
      status: 201,
      maxFileBytes: MAX_MEDIA_BYTES,
      async handler({ body, provider, file }) {
        ProviderGate.allow(provider, body.channel);
        if (!file) throw new AppError(400, 'invalid_request', 'send the media as multipart/form-data with the file in a field named "file" (curl -F file=@picture.png)');
        const { kind, contentType } = classify(file.filename, file.mimeType);
        const limit = PORTAL_LIMITS.mediaBytes[kind];
        if (file.size > limit) throw new AppError(413, 'body_too_large', `a file of kind ${kind} may have at most ${mib(limit)}; this one has ${file.size} bytes`);
        if (file.size === 0) throw new AppError(400, 'invalid_request', 'the file is empty');

        if (kind === 'game') await storage.unpackGame(file); // refused archives stop here, leaving nothing behind
        await storage.keep(file);
        await store.portal.putMediaFile({ sha256: file.sha256, size: file.size, contentType, kind });
        const item = await store.portal.addMedia(
          provider.id,
          body.channel,
          { title: body.title, kind, contentType, size: file.size, sha256: file.sha256, priority: body.priority, expiresAt: body.expires },
          (stored) => mediaUrl(secret, stored),
        );
        return { id: item.id, channel: item.channel };
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/media',
      tag: 'portal',
      summary: 'The live media items, by priority then newest, each with a fresh signed URL (valid for at least 24 h)',
      access: 'user',
      response: MediaResponse,
      async handler() {
        const now = Date.now();
        const items = (await store.portal.liveMedia(now)).map(({ sha256, ...item }) => ({ ...item, url: mediaUrl(secret, { kind: item.kind, sha256 }, now) }));
        return { items };
      },
    }),
  ];
}
