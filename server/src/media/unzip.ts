/**
 * Unpacking a game (mini-app) archive safely. The whole central directory is checked before a
 * single byte is written: no absolute paths, no `..` segments, no symbolic links or other
 * special files, no duplicate names, no encryption, at most `files` entries and `bytes` unpacked,
 * and an index.html at the root. While unpacking, yauzl checks every entry's real size against
 * the declared one, so a lying archive (zip bomb) is cut off too. Any refusal is a 400.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { AppError } from '../errors.js';

export interface UnpackLimits {
  files: number;
  bytes: number;
}

const refuse = (message: string) => new AppError(400, 'invalid_request', `the game archive ${message}`);

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/** File-system errors that mean "this archive's layout is impossible", not "the server is broken". */
const LAYOUT_ERRORS = new Set(['EEXIST', 'ENOTDIR', 'EISDIR', 'ENAMETOOLONG', 'EINVAL']);

/** Why yauzl refused the archive, as a client-facing message. */
function zipProblem(error: unknown): AppError {
  const message = error instanceof Error ? error.message : String(error);
  if (/absolute path|invalid relative path|invalid characters in fileName/.test(message)) return refuse(`contains an unsafe path (${message})`);
  return refuse(`is damaged or not a zip file (${message})`);
}

/** The entry's path as safe relative segments, or a refusal. */
function safeSegments(name: string): string[] {
  if (name.startsWith('/') || /^[a-zA-Z]:/.test(name)) throw refuse(`contains an absolute path: ${name}`);
  const segments = name.split('/').filter((s) => s !== '' && s !== '.');
  for (const s of segments) {
    if (s === '..') throw refuse(`contains a path that leaves the archive: ${name}`);
    if (/[\\\0]/.test(s)) throw refuse(`contains an unsafe file name: ${JSON.stringify(name)}`);
  }
  return segments;
}

/**
 * Unpacks the zip at `zipPath` into `dest`, which must not exist yet (it is created). On a
 * refusal `dest` may be partly written: the caller removes it.
 */
export async function unpackGame(zipPath: string, dest: string, limits: UnpackLimits): Promise<{ files: number; bytes: number }> {
  let zip: ZipFile;
  try {
    zip = await yauzl.openPromise(zipPath, { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: false });
  } catch (error) {
    throw zipProblem(error);
  }
  try {
    if (zip.entryCount > limits.files) throw refuse(`has ${zip.entryCount} entries; at most ${limits.files} are allowed`);

    // 1. Check everything before writing anything.
    const dirs: string[] = [];
    const files: Array<{ entry: Entry; path: string }> = [];
    const seen = new Set<string>();
    let declared = 0;
    let hasIndex = false;
    try {
      for await (const entry of zip.eachEntry()) {
        const name = entry.fileName;
        const type = (entry.externalFileAttributes >>> 16) & S_IFMT;
        if (type === S_IFLNK) throw refuse(`contains a symbolic link: ${name}`);
        if (type !== 0 && type !== S_IFREG && type !== S_IFDIR) throw refuse(`contains a special file: ${name}`);
        const isDir = name.endsWith('/') || type === S_IFDIR;
        const segments = safeSegments(name);
        if (segments.length === 0) {
          if (isDir) continue; // "./": the root itself
          throw refuse(`contains a file without a name: ${JSON.stringify(name)}`);
        }
        const rel = segments.join('/');
        const path = resolve(dest, ...segments);
        if (!path.startsWith(dest + sep)) throw refuse(`contains a path that leaves the archive: ${name}`);
        if (isDir) {
          dirs.push(path);
          continue;
        }
        if (seen.has(rel)) throw refuse(`contains ${rel} twice`);
        seen.add(rel);
        if (entry.isEncrypted()) throw refuse(`is encrypted (${name})`);
        if (!entry.canDecodeFileData()) throw refuse(`uses a compression method other than store or deflate (${name})`);
        declared += entry.uncompressedSize;
        if (declared > limits.bytes) throw refuse(`unpacks to more than ${limits.bytes} bytes; at most that is allowed`);
        if (rel === 'index.html') hasIndex = true;
        files.push({ entry, path });
      }
    } catch (error) {
      throw error instanceof AppError ? error : zipProblem(error);
    }
    if (!hasIndex) throw refuse('has no index.html at its root (the page the game starts from)');

    // 2. Unpack. Sizes are checked by yauzl (validateEntrySizes) and counted here as well.
    let written = 0;
    try {
      await mkdir(dest, { mode: 0o700 });
      for (const dir of dirs) await mkdir(dir, { recursive: true, mode: 0o700 });
      for (const { entry, path } of files) {
        await mkdir(dirname(path), { recursive: true, mode: 0o700 });
        const counter = new Transform({
          transform(chunk: Buffer, _enc, done) {
            written += chunk.length;
            if (written > limits.bytes) done(refuse(`unpacks to more than ${limits.bytes} bytes; at most that is allowed`));
            else done(null, chunk);
          },
        });
        // 'wx': never write through something that is already there.
        await pipeline(await zip.openReadStreamPromise(entry), counter, createWriteStream(path, { flags: 'wx', mode: 0o600 }));
      }
    } catch (error) {
      if (error instanceof AppError) throw error;
      const code = (error as NodeJS.ErrnoException)?.code;
      if (typeof code === 'string' && LAYOUT_ERRORS.has(code)) {
        throw refuse('has entries that clash (a file and a folder of the same name, or a name too long)');
      }
      if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) throw error; // disk full, permissions: a server problem
      throw zipProblem(error);
    }
    return { files: files.length, bytes: written };
  } finally {
    zip.close();
  }
}
