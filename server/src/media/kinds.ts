/**
 * What a provider may upload, decided by the bytes: the file is sniffed (file-type reads its
 * magic numbers and container headers) and must be one of the allowed formats. The file name's
 * extension and the declared type are claims that must agree with the bytes, or the upload is a
 * 415 naming what the bytes are (a PNG named .mp4 is not a video). The server answers each file
 * with the Content-Type of its format, never the type the client declared, so a provider cannot
 * have it serve text/html or SVG. A generic declared type (curl and browsers say
 * application/octet-stream when they do not know) is no claim.
 *
 * Containers that hold either audio or video (MP4, WebM, Ogg, whose sniffed type does not always
 * tell which tracks are inside) take the kind from the extension within the container: tone.m4a
 * and clip.mp4 are both MP4 files; voice.weba is WebM. A file without an extension gets the kind
 * and type its bytes have.
 */
import { extname } from 'node:path';
import { fileTypeFromFile } from 'file-type';
import { PORTAL_LIMITS } from '../../../shared/index.js';
import { AppError } from '../errors.js';
import type { MediaKind } from '../store/portal.js';

type Container = 'png' | 'jpeg' | 'gif' | 'webp' | 'mp4' | 'webm' | 'ogg' | 'mp3' | 'wav' | 'zip';

interface Format {
  kind: MediaKind;
  container: Container;
  /** What the file is served as. */
  contentType: string;
  /** Declared types that agree with the format (besides the generic ones). */
  declared: string[];
}

const ogg = ['application/ogg'];
const FORMATS: Record<string, Format> = {
  png: { kind: 'image', container: 'png', contentType: 'image/png', declared: ['image/png', 'image/x-png', 'image/apng'] },
  jpg: { kind: 'image', container: 'jpeg', contentType: 'image/jpeg', declared: ['image/jpeg', 'image/jpg', 'image/pjpeg'] },
  jpeg: { kind: 'image', container: 'jpeg', contentType: 'image/jpeg', declared: ['image/jpeg', 'image/jpg', 'image/pjpeg'] },
  gif: { kind: 'image', container: 'gif', contentType: 'image/gif', declared: ['image/gif'] },
  webp: { kind: 'image', container: 'webp', contentType: 'image/webp', declared: ['image/webp'] },
  mp4: { kind: 'video', container: 'mp4', contentType: 'video/mp4', declared: ['video/mp4', 'application/mp4'] },
  webm: { kind: 'video', container: 'webm', contentType: 'video/webm', declared: ['video/webm'] },
  ogv: { kind: 'video', container: 'ogg', contentType: 'video/ogg', declared: ['video/ogg', ...ogg] },
  mp3: { kind: 'audio', container: 'mp3', contentType: 'audio/mpeg', declared: ['audio/mpeg', 'audio/mp3', 'audio/mpeg3', 'audio/x-mpeg-3'] },
  ogg: { kind: 'audio', container: 'ogg', contentType: 'audio/ogg', declared: ['audio/ogg', 'audio/vorbis', 'audio/opus', ...ogg] },
  oga: { kind: 'audio', container: 'ogg', contentType: 'audio/ogg', declared: ['audio/ogg', 'audio/vorbis', 'audio/opus', ...ogg] },
  wav: { kind: 'audio', container: 'wav', contentType: 'audio/wav', declared: ['audio/wav', 'audio/x-wav', 'audio/wave', 'audio/vnd.wave'] },
  m4a: { kind: 'audio', container: 'mp4', contentType: 'audio/mp4', declared: ['audio/mp4', 'audio/x-m4a', 'audio/m4a', 'audio/aac'] },
  weba: { kind: 'audio', container: 'webm', contentType: 'audio/webm', declared: ['audio/webm'] },
  zip: { kind: 'game', container: 'zip', contentType: 'application/zip', declared: ['application/zip', 'application/x-zip-compressed', 'application/x-zip', 'multipart/x-zip'] },
};
const GENERIC = new Set(['', 'application/octet-stream', 'binary/octet-stream', 'application/unknown']);

/**
 * What file-type's answers (by its `ext`) mean here: the container, the kinds the bytes allow
 * in it, and the format a file without an extension gets. Anything else is not allowed.
 */
const SNIFFED: Record<string, { container: Container; kinds: MediaKind[]; format: string }> = {
  png: { container: 'png', kinds: ['image'], format: 'png' },
  apng: { container: 'png', kinds: ['image'], format: 'png' },
  jpg: { container: 'jpeg', kinds: ['image'], format: 'jpg' },
  gif: { container: 'gif', kinds: ['image'], format: 'gif' },
  webp: { container: 'webp', kinds: ['image'], format: 'webp' },
  mp4: { container: 'mp4', kinds: ['video', 'audio'], format: 'mp4' }, // a generic brand (isom) says nothing of the tracks
  m4v: { container: 'mp4', kinds: ['video'], format: 'mp4' },
  m4a: { container: 'mp4', kinds: ['audio'], format: 'm4a' },
  webm: { container: 'webm', kinds: ['video', 'audio'], format: 'webm' }, // file-type calls every WebM video/webm
  ogv: { container: 'ogg', kinds: ['video'], format: 'ogv' },
  ogg: { container: 'ogg', kinds: ['audio'], format: 'ogg' },
  oga: { container: 'ogg', kinds: ['audio'], format: 'oga' },
  opus: { container: 'ogg', kinds: ['audio'], format: 'oga' },
  spx: { container: 'ogg', kinds: ['audio'], format: 'oga' },
  ogx: { container: 'ogg', kinds: ['video', 'audio'], format: 'ogv' },
  mp3: { container: 'mp3', kinds: ['audio'], format: 'mp3' },
  wav: { container: 'wav', kinds: ['audio'], format: 'wav' },
  zip: { container: 'zip', kinds: ['game'], format: 'zip' },
};

/** The largest file any kind may have: what the upload route lets through before it knows the kind. */
export const MAX_MEDIA_BYTES = Math.max(...Object.values(PORTAL_LIMITS.mediaBytes));

const allowed = () =>
  (['image', 'video', 'audio', 'game'] as const)
    .map((kind) => `${kind}: ${Object.keys(FORMATS).filter((ext) => FORMATS[ext]!.kind === kind).join(' ')}`)
    .join('; ');

/** file-type's answer; a parser that trips over malformed bytes means "not recognized", a file-system error is the server's. */
export async function sniff(path: string) {
  try {
    return await fileTypeFromFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException)?.code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) throw error;
    return undefined;
  }
}

const unsupported = (message: string) => new AppError(415, 'unsupported_media_type', message);

/** The kind and served type of an upload, from its bytes, checked against its file name and declared type; 415 if not allowed. */
export async function classify(path: string, filename: string, declaredType: string): Promise<{ kind: MediaKind; contentType: string }> {
  const ext = extname(filename).slice(1).toLowerCase();
  const named = ext === '' ? undefined : Object.hasOwn(FORMATS, ext) ? FORMATS[ext] : undefined;
  if (ext !== '' && !named) {
    throw unsupported(`the file name "${filename}" does not have an allowed extension (${allowed()})`);
  }
  const what = `the file${filename ? ` "${filename}"` : ''}`;

  const type = await sniff(path);
  const sniffed = type && Object.hasOwn(SNIFFED, type.ext) ? SNIFFED[type.ext] : undefined;
  if (!sniffed) {
    throw unsupported(
      type
        ? `${what}: its bytes are ${type.mime} (.${type.ext}), which is not allowed (${allowed()})`
        : `${what}: its bytes are not a recognized image, video, audio or zip format (${allowed()})`,
    );
  }
  const bytesAre = `${type!.mime.split(';')[0]}`;
  if (named && (named.container !== sniffed.container || !sniffed.kinds.includes(named.kind))) {
    throw unsupported(`${what} is named .${ext} (${named.kind}, ${named.contentType}), but its bytes are ${bytesAre}`);
  }
  const format = named ?? FORMATS[sniffed.format]!;

  const declared = declaredType.split(';')[0]!.trim().toLowerCase();
  if (!GENERIC.has(declared) && !format.declared.includes(declared)) {
    throw unsupported(`${what} is declared as ${declared}, but its bytes are ${bytesAre}${named ? ` and its name ends in .${ext}` : ''} (${format.contentType})`);
  }
  return { kind: format.kind, contentType: format.contentType };
}
