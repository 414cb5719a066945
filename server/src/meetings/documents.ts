/**
 * Documents shown in a meeting: a PDF becomes one PNG per page (pdftoppm from Debian's
 * poppler-utils, run without a shell, with a page cap, a size cap per page and a timeout); a PNG
 * or JPEG is one page as it is. The kind is decided by the bytes (file-type), never by the
 * declared type alone. Page images live under <dataDir>/meetings/<meetingId>/<documentId>/, 0600,
 * and are served under signed, expiring paths (like media, see media/urls.ts) handed only to the
 * meeting's participants:
 *   /meeting-pages/<token>/<meetingId>/<documentId>/<file>   token = grant(`meeting-page:<m>/<d>/<file>`, expiry)
 * An ended meeting's files are removed.
 */
import type Router from '@koa/router';
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { chmod, lstat, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileTypeFromBuffer } from 'file-type';
import sharp from 'sharp';
import { MEETING_LIMITS, type MeetingDocument } from '../../../shared/index.js';
import { AppError, forbidden, notFound } from '../errors.js';
import { MEDIA_CSP } from '../media/serve.js';
import { urlExpiry } from '../media/urls.js';
import { PRIVATE_FILE, privateDir } from '../private-fs.js';
import type { ServerSecret } from '../secrets.js';
import type { DocumentRecord } from '../store/meetings.js';

const run = promisify(execFile);
export const DOCUMENT_TYPES = ['application/pdf', 'image/png', 'image/jpeg'] as const;
const PAGE_FILE = /^p([1-9]\d{0,3})\.(png|jpg)$/;
const ID = /^[0-9a-f-]{36}$/;
const subject = (meetingId: string, documentId: string, file: string) => `meeting-page:${meetingId}/${documentId}/${file}`;

export type Pages = DocumentRecord['pages'];

export class MeetingFiles {
  readonly root: string;

  constructor(
    dataDir: string,
    private readonly secret: ServerSecret,
    /** The pdftoppm to run (a test may point elsewhere). */
    private readonly pdftoppm = 'pdftoppm',
  ) {
    this.root = join(dataDir, 'meetings');
  }

  private dir(meetingId: string, documentId: string) {
    return join(this.root, meetingId, documentId);
  }

  /**
   * Stores the upload's pages in the document's directory: the bytes decide what it is (415 for
   * anything but PDF, PNG, JPEG); a PDF pdftoppm cannot read is a 400. Nothing is left behind on failure.
   */
  async store(meetingId: string, documentId: string, data: Buffer): Promise<Pages> {
    const sniffed = await fileTypeFromBuffer(data);
    if (!sniffed || !(DOCUMENT_TYPES as readonly string[]).includes(sniffed.mime)) {
      throw new AppError(415, 'unsupported_media_type', `send a PDF, PNG or JPEG file${sniffed ? ` (this is ${sniffed.mime})` : ''}`);
    }
    const dir = await privateDir(this.dir(meetingId, documentId));
    try {
      if (sniffed.mime === 'application/pdf') return await this.convertPdf(dir, data);
      const file = `p1.${sniffed.ext === 'png' ? 'png' : 'jpg'}`;
      const { width, height } = await dimensions(data, 'the image could not be read');
      await writeFile(join(dir, file), data, { mode: PRIVATE_FILE });
      return [{ file, width, height }];
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  private async convertPdf(dir: string, data: Buffer): Promise<Pages> {
    const source = join(dir, 'source.pdf');
    await writeFile(source, data, { mode: PRIVATE_FILE });
    try {
      // No shell: arguments as an array. -l caps the pages, -scale-to the longest side in pixels.
      await run(
        this.pdftoppm,
        ['-png', '-f', '1', '-l', String(MEETING_LIMITS.documentPages), '-scale-to', String(MEETING_LIMITS.pageMaxPixels), source, join(dir, 'page')],
        { timeout: MEETING_LIMITS.conversionSeconds * 1000, killSignal: 'SIGKILL', maxBuffer: 256 * 1024, windowsHide: true },
      );
    } catch (error) {
      const e = error as { killed?: boolean; stderr?: string; code?: unknown };
      if (e.killed) throw new AppError(400, 'invalid_request', `the PDF took longer than ${MEETING_LIMITS.conversionSeconds} s to convert`);
      if (typeof e.code === 'string') throw error; // pdftoppm missing (ENOENT): the server's fault, a 500
      const why = (e.stderr ?? '').split('\n').find((l) => l.trim()) ?? 'it is damaged';
      throw new AppError(400, 'invalid_request', `the PDF could not be read: ${why.slice(0, 200)}`);
    } finally {
      await rm(source, { force: true });
    }
    // pdftoppm names pages page-1.png, page-01.png or page-001.png (as many digits as the last page needs).
    const made = (await readdir(dir))
      .map((name) => ({ name, n: Number(/^page-(\d+)\.png$/.exec(name)?.[1] ?? NaN) }))
      .filter((p) => Number.isInteger(p.n))
      .sort((a, b) => a.n - b.n);
    if (made.length === 0) throw new AppError(400, 'invalid_request', 'the PDF has no pages');
    const pages: Pages = [];
    for (const [i, { name }] of made.entries()) {
      const file = `p${i + 1}.png`;
      await rename(join(dir, name), join(dir, file));
      await chmod(join(dir, file), PRIVATE_FILE); // pdftoppm writes with the umask's mode
      const { width, height } = await dimensions(join(dir, file), 'a page could not be converted');
      pages.push({ file, width, height });
    }
    return pages;
  }

  /** The protocol view: a fresh signed URL per page. */
  view(doc: DocumentRecord, now = Date.now()): MeetingDocument {
    const expiry = urlExpiry(now);
    return {
      id: doc.id,
      name: doc.name,
      pages: doc.pages.map((p) => ({
        url: `/meeting-pages/${this.secret.grant(subject(doc.meetingId, doc.id, p.file), expiry)}/${doc.meetingId}/${doc.id}/${p.file}`,
        width: p.width,
        height: p.height,
      })),
    };
  }

  /** Removes one document's files (it could not be recorded). */
  async removeDocument(meetingId: string, documentId: string) {
    if (ID.test(meetingId) && ID.test(documentId)) await rm(this.dir(meetingId, documentId), { recursive: true, force: true });
  }

  /** Removes a meeting's files (it ended). */
  async removeMeeting(meetingId: string) {
    if (!ID.test(meetingId)) return;
    await rm(join(this.root, meetingId), { recursive: true, force: true });
  }

  /** Serves page images under their signed paths (mounted on the router: files, not JSON). */
  serve(router: Router) {
    router.get('/meeting-pages/:token/:meetingId/:documentId/:file', async (ctx) => {
      const { token, meetingId, documentId, file } = ctx.params as Record<string, string>;
      const match = PAGE_FILE.exec(file!);
      if (!match || !ID.test(meetingId!) || !ID.test(documentId!)) throw notFound('page');
      if (!this.secret.allows(token!, subject(meetingId!, documentId!, file!))) throw forbidden('this page link is invalid or has expired');
      const path = join(this.dir(meetingId!, documentId!), file!);
      const st = await lstat(path).catch(() => undefined);
      if (!st?.isFile()) throw notFound('page'); // the meeting ended (its files are gone)
      ctx.set('Content-Security-Policy', MEDIA_CSP);
      ctx.set('Cache-Control', 'private, max-age=86400');
      ctx.type = match[2] === 'png' ? 'image/png' : 'image/jpeg';
      ctx.length = st.size;
      ctx.body = createReadStream(path);
    });
  }
}

async function dimensions(input: Buffer | string, failure: string): Promise<{ width: number; height: number }> {
  try {
    const meta = await sharp(input).metadata();
    if (!meta.width || !meta.height) throw new Error('no size');
    return { width: meta.width, height: meta.height };
  } catch {
    throw new AppError(400, 'invalid_request', failure);
  }
}
