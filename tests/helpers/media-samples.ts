/**
 * Real media files for upload tests: the server sniffs the bytes (file-type), so a test file must
 * be what its name says. Each sample is made once per process by ffmpeg (tiny: a 32x32 frame, a
 * fraction of a second of tone); `sample(ext, size, seed)` pads it with pseudo-random bytes after
 * the real content, to a given size and distinct per seed (players and sniffers ignore the tail).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ZipFile } from 'yazl';

const VIDEO = ['-f', 'lavfi', '-i', 'testsrc=size=32x32:rate=5', '-t', '0.4'];
const PICTURE = ['-f', 'lavfi', '-i', 'testsrc=size=32x32', '-frames:v', '1'];
const TONE = ['-f', 'lavfi', '-i', 'sine=d=0.3'];
const RECIPES = {
  png: PICTURE,
  jpg: PICTURE,
  gif: PICTURE,
  webp: PICTURE,
  mp4: [...VIDEO, '-pix_fmt', 'yuv420p'],
  webm: VIDEO,
  ogv: [...VIDEO, '-c:v', 'libtheora'],
  mp3: TONE,
  ogg: TONE,
  wav: TONE,
  m4a: TONE,
  weba: [...TONE, '-c:a', 'libopus', '-f', 'webm'],
  oga: [...TONE, '-c:a', 'libopus', '-f', 'ogg'],
} as const;
export type SampleExt = keyof typeof RECIPES;

const made = new Map<SampleExt, Buffer>();

/** The bare file ffmpeg makes for this extension. */
export function realFile(ext: SampleExt): Buffer {
  let data = made.get(ext);
  if (!data) {
    const dir = mkdtempSync(join(tmpdir(), 'portico-sample-'));
    try {
      const out = join(dir, `sample.${ext}`);
      execFileSync('ffmpeg', ['-v', 'error', '-nostdin', '-y', ...RECIPES[ext], out]);
      data = readFileSync(out);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    made.set(ext, data);
  }
  return data;
}

/** Deterministic pseudo-random bytes (mulberry32): different seeds, different contents. */
export function pseudoRandom(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let a = seed >>> 0;
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (t ^ (t >>> 14)) & 0xff;
  }
  return out;
}

/** A real `ext` file padded to `size` bytes (at least the real file's size) with a tail that depends on `seed`. */
export function sample(ext: SampleExt, size: number, seed: number): Buffer {
  const real = realFile(ext);
  return Buffer.concat([real, pseudoRandom(Math.max(8, size - real.length), seed)]);
}

/**
 * The start of an MP4 file (an ISO base media `ftyp` box, brand isom), for tests that need
 * "some video" without ffmpeg: what file-type recognizes as video/mp4.
 */
export const MP4_FTYP = Buffer.from('000000186674797069736f6d0000020069736f6d69736f32', 'hex');

export interface ZipEntry {
  name: string;
  data: string | Buffer;
  /** Unix mode (file type bits included). */
  mode?: number;
}

/**
 * A zip archive built with yazl; a name ending in "/" is an empty directory. `compress: false`
 * stores entries as they are (so their sizes on disk are known exactly).
 */
export function makeZip(files: ZipEntry[], { compress = true } = {}): Promise<Buffer> {
  const zip = new ZipFile();
  for (const f of files) {
    if (f.name.endsWith('/')) zip.addEmptyDirectory(f.name);
    else zip.addBuffer(Buffer.from(f.data), f.name, { compress, ...(f.mode === undefined ? {} : { mode: f.mode }) });
  }
  zip.end();
  const chunks: Buffer[] = [];
  return new Promise((ok, fail) => {
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => ok(Buffer.concat(chunks)));
    zip.outputStream.on('error', fail);
  });
}
