/**
 * What a provider may upload: an allow-list by file name extension. The extension decides the
 * kind and the Content-Type the file is served with (never the type the client declared, so a
 * provider cannot have the server answer text/html or SVG); the declared type must agree with
 * the extension or be a generic one (curl and browsers say application/octet-stream when they
 * do not know).
 */
import { extname } from 'node:path';
import { PORTAL_LIMITS } from '../../../shared/index.js';
import { AppError } from '../errors.js';
import type { MediaKind } from '../store/portal.js';

interface Format {
  kind: MediaKind;
  /** What the file is served as. */
  contentType: string;
  /** Declared types that agree with the extension (besides the generic ones). */
  declared: string[];
}

const ogg = ['application/ogg'];
const FORMATS: Record<string, Format> = {
  png: { kind: 'image', contentType: 'image/png', declared: ['image/png', 'image/x-png'] },
  jpg: { kind: 'image', contentType: 'image/jpeg', declared: ['image/jpeg', 'image/jpg', 'image/pjpeg'] },
  jpeg: { kind: 'image', contentType: 'image/jpeg', declared: ['image/jpeg', 'image/jpg', 'image/pjpeg'] },
  gif: { kind: 'image', contentType: 'image/gif', declared: ['image/gif'] },
  webp: { kind: 'image', contentType: 'image/webp', declared: ['image/webp'] },
  mp4: { kind: 'video', contentType: 'video/mp4', declared: ['video/mp4', 'application/mp4'] },
  webm: { kind: 'video', contentType: 'video/webm', declared: ['video/webm'] },
  ogv: { kind: 'video', contentType: 'video/ogg', declared: ['video/ogg', ...ogg] },
  mp3: { kind: 'audio', contentType: 'audio/mpeg', declared: ['audio/mpeg', 'audio/mp3', 'audio/mpeg3', 'audio/x-mpeg-3'] },
  ogg: { kind: 'audio', contentType: 'audio/ogg', declared: ['audio/ogg', 'audio/vorbis', 'audio/opus', ...ogg] },
  oga: { kind: 'audio', contentType: 'audio/ogg', declared: ['audio/ogg', 'audio/vorbis', 'audio/opus', ...ogg] },
  wav: { kind: 'audio', contentType: 'audio/wav', declared: ['audio/wav', 'audio/x-wav', 'audio/wave', 'audio/vnd.wave'] },
  m4a: { kind: 'audio', contentType: 'audio/mp4', declared: ['audio/mp4', 'audio/x-m4a', 'audio/m4a', 'audio/aac'] },
  weba: { kind: 'audio', contentType: 'audio/webm', declared: ['audio/webm'] },
  zip: { kind: 'game', contentType: 'application/zip', declared: ['application/zip', 'application/x-zip-compressed', 'application/x-zip', 'multipart/x-zip'] },
};
const GENERIC = new Set(['', 'application/octet-stream', 'binary/octet-stream', 'application/unknown']);

/** The largest file any kind may have: what the upload route lets through before it knows the kind. */
export const MAX_MEDIA_BYTES = Math.max(...Object.values(PORTAL_LIMITS.mediaBytes));

const allowed = () =>
  (['image', 'video', 'audio', 'game'] as const)
    .map((kind) => `${kind}: ${Object.keys(FORMATS).filter((ext) => FORMATS[ext]!.kind === kind).join(' ')}`)
    .join('; ');

/** The kind and served type of an upload, from its file name and declared type; 415 if not allowed. */
export function classify(filename: string, declaredType: string): { kind: MediaKind; contentType: string } {
  const ext = extname(filename).slice(1).toLowerCase();
  const format = Object.hasOwn(FORMATS, ext) ? FORMATS[ext] : undefined;
  if (!format) {
    throw new AppError(
      415,
      'unsupported_media_type',
      `${filename ? `the file name "${filename}"` : 'a file without a name'} does not have an allowed extension (${allowed()})`,
    );
  }
  const declared = declaredType.split(';')[0]!.trim().toLowerCase();
  if (!GENERIC.has(declared) && !format.declared.includes(declared)) {
    throw new AppError(415, 'unsupported_media_type', `the file is declared as ${declared}, which does not match its extension .${ext} (${format.contentType})`);
  }
  return { kind: format.kind, contentType: format.contentType };
}
