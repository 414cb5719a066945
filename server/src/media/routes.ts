/**
 * Media pushed by providers (images, videos, audio, and games: zip archives of a small web app
 * with an index.html), and the list clients read. Files are kept content-addressed (storage.ts)
 * and handed out under signed, expiring paths (urls.ts, served by serve.ts). What a provider's
 * live media take on disk is bounded by its storage quota; expired ones are deleted by the
 * media sweep (sweeper.ts).
 */
import { CreatedResponse, MediaPush, MediaResponse, PORTAL_LIMITS } from '../../../shared/index.js';
import type { Services } from '../context.js';
import { AppError } from '../errors.js';
import { route } from '../http/route.js';
import { ProviderGate } from '../providers/cgi.js';
import { classify, MAX_MEDIA_BYTES } from './kinds.js';
import { MediaStorage } from './storage.js';
import { addMedia } from './rules.js';
import { mediaUrl } from './urls.js';

const mib = (bytes: number) => `${bytes / 2 ** 20} MiB`;
/** Exact bytes, with a readable size after them when it is large. */
const amount = (bytes: number) => {
  let n = bytes;
  let unit = '';
  for (const u of ['KiB', 'MiB', 'GiB', 'TiB']) {
    if (n < 1024) break;
    n /= 1024;
    unit = u;
  }
  return unit ? `${bytes} bytes (${n.toFixed(1)} ${unit})` : `${bytes} bytes`;
};

/** The title a file gets when none was given: its name, without any folder a client sent along. */
const titleOf = (filename: string, kind: string) => filename.split(/[/\\]/).pop()!.trim().slice(0, PORTAL_LIMITS.titleChars) || kind;

export function mediaRoutes({ store, secret, config }: Services) {
  const storage = new MediaStorage(config.dataDir);
  const limits = Object.entries(PORTAL_LIMITS.mediaBytes)
    .map(([kind, bytes]) => `${kind} ${mib(bytes)}`)
    .join(', ');
  const quota = config.mediaQuotaBytes;
  const overQuota = (provider: string, used: number, adding: number) =>
    new AppError(
      413,
      'quota_exceeded',
      `the provider ${provider} holds ${amount(used)} of live media and games, of a quota of ${amount(quota)}; ` +
        `this file needs ${amount(adding)} more. Let items expire (they are deleted then), or ask an administrator for a larger quota (PORTICO_MEDIA_QUOTA)`,
    );
  return [
    route({
      method: 'post',
      path: '/cgi/media',
      tag: 'providers',
      summary:
        'Push a media item as multipart/form-data: file (image png/jpeg/gif/webp, video mp4/webm/ogv, audio mp3/ogg/oga/wav/m4a/weba, ' +
        'or a game: a zip with index.html at its root; the kind is read from the bytes, and a file name or type that says otherwise is a 415), ' +
        `channel, title? (default: the file name), priority? (-100..100), expires?. Limits: ${limits}; a provider's live media and games ` +
        'together within its storage quota (413 quota_exceeded)',
      access: 'provider',
      body: MediaPush,
      response: CreatedResponse,
      status: 201,
      maxFileBytes: MAX_MEDIA_BYTES,
      async handler({ body, provider, file }) {
        ProviderGate.allow(provider, body.channel);
        if (!file) throw new AppError(400, 'invalid_request', 'send the media as multipart/form-data with the file in a field named "file" (curl -F file=@picture.png)');
        if (file.size === 0) throw new AppError(400, 'invalid_request', 'the file is empty');
        const { kind, contentType } = await classify(file.path, file.filename, file.mimeType);
        const limit = PORTAL_LIMITS.mediaBytes[kind];
        if (file.size > limit) throw new AppError(413, 'body_too_large', `a file of kind ${kind} may have at most ${mib(limit)}; this one has ${file.size} bytes`);

        // The quota is checked before anything is stored (a game again with its unpacked size,
        // before it is put in place), and once more as the item is recorded, against racing pushes.
        const withinQuota = async (bytes: number) => {
          if (quota === 0) return;
          const { used, holds } = await store.portal.mediaUsage(provider.id, file.sha256, Date.now());
          if (!holds && used + bytes > quota) throw overQuota(provider.name, used, bytes);
        };
        const leave = await storage.gate.enter(); // no sweep between keeping the file and recording its item
        try {
          await withinQuota(file.size);
          // Refused archives stop here, leaving nothing behind.
          const unpackedSize = kind === 'game' ? await storage.unpackGame(file, (unpacked) => withinQuota(file.size + unpacked)) : 0;
          const bytes = file.size + unpackedSize;
          await storage.keep(file);
          await store.portal.putMediaFile({ sha256: file.sha256, size: file.size, contentType, kind, unpackedSize });
          const item = await store.write((tx) =>
            addMedia(
            tx,
            provider.id,
            body.channel,
            {
              title: body.title ?? titleOf(file.filename, kind),
              kind,
              contentType,
              size: file.size,
              sha256: file.sha256,
              priority: body.priority,
              expiresAt: body.expires,
            },
            (stored) => mediaUrl(secret, stored),
            // Refused here (a race), the kept file is unreferenced: the next sweep deletes it.
            { limit: quota, bytes, refuse: ({ used }) => overQuota(provider.name, used, bytes) },
          ),
          );
          return { id: item.id, channel: item.channel };
        } finally {
          leave();
        }
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
