/**
 * `portico update publish <dir>`: takes electron-builder's output for the "generic" provider
 * (latest.yml for Windows, latest-linux.yml, latest-mac.yml, and the files they name) and puts it
 * in <dataDir>/updates/, where the server offers it at /updates/.
 *
 * Everything is checked before anything changes: each manifest parses, names plain file names
 * that exist in <dir>, with the size and SHA-512 it states. The new set is assembled next to the
 * old one and swapped in with two renames, so updaters never see a manifest without its files
 * (a request landing between the renames gets 404, and the updater simply tries again later).
 * A manifest published earlier for another platform stays (with its files) unless <dir> has one
 * of the same name; files no manifest names any more are dropped. What is published is exactly
 * what clients are offered: publishing a version is pinning it.
 *
 * With `sign`, each published manifest gets `<manifest>.sig` (signing.ts), and with
 * `allowDowngrade` the manifest records `porticoAllowDowngrade: true` inside the signed bytes:
 * clients refuse an older version unless a signed manifest says so. Without `sign`, no
 * signature is published for those manifests (clients that pin a key then refuse them).
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { lstat, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, parseDocument } from 'yaml';
import { AppError } from '../errors.js';
import { copyPrivate, privateDir } from '../private-fs.js';
import { UPDATE_FILE, updatesDir } from './serve.js';
import { loadSigningKey, SIGNATURE_SUFFIX, signatureFor, signatureVerifies, signingKeyPath } from './signing.js';

/** Manifest names electron-updater's generic provider asks for (default channel "latest"). */
export const MANIFEST = /^latest(-linux(-arm64)?|-mac)?\.yml$/;

export interface ManifestInfo {
  manifest: string;
  version: string;
  files: string[];
  /** Whether `<manifest>.sig` is there, and whether it verifies with this server's signing key (when it has one). */
  signature?: 'none' | 'present' | 'valid' | 'invalid';
  allowDowngrade?: boolean;
}

export interface PublishOptions {
  /** Sign the published manifests with <dataDir>/update-signing.key. */
  sign?: boolean;
  /** Record in the signed manifest that clients may move to this (older) version. */
  allowDowngrade?: boolean;
}

/** The key, inside a manifest, that lets clients install an older version (see electron/main/update-trust.ts). */
export const ALLOW_DOWNGRADE_KEY = 'porticoAllowDowngrade';

const invalid = (message: string) => new AppError(400, 'invalid_request', message);

function sha512(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha512');
    createReadStream(path)
      .on('error', reject)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('base64')));
  });
}

/** Parses and checks one manifest against the files in `dir`; answers the files to publish. */
export async function checkManifest(dir: string, manifest: string): Promise<ManifestInfo> {
  const where = `${manifest} in ${dir}`;
  let doc: any;
  try {
    doc = parse(await readFile(join(dir, manifest), 'utf8'));
  } catch (error) {
    throw invalid(`${where} is not valid YAML (${(error as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null) throw invalid(`${where}: not a manifest`);
  const version = doc.version;
  if (typeof version !== 'string' || !/^\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]*)?$/.test(version)) {
    throw invalid(`${where}: "version" must be a version like 1.2.3`);
  }
  const entries: Array<{ url: unknown; sha512: unknown; size?: unknown }> = Array.isArray(doc.files) ? [...doc.files] : [];
  if (doc.path !== undefined) entries.push({ url: doc.path, sha512: doc.sha512 }); // the older single-file form
  if (entries.length === 0) throw invalid(`${where}: names no files`);

  const files = new Set<string>();
  for (const entry of entries) {
    const url = entry?.url;
    if (typeof url !== 'string' || !UPDATE_FILE.test(url) || url.includes('..') || MANIFEST.test(url) || MANIFEST.test(url.replace(/\.sig$/, ''))) {
      throw invalid(`${where}: ${JSON.stringify(url)} must be a plain file name next to the manifest`);
    }
    const path = join(dir, url);
    const st = await lstat(path).catch(() => undefined);
    if (!st?.isFile()) throw invalid(`${where} names ${url}, which is not in ${dir}`);
    if (entry.size !== undefined && entry.size !== st.size) throw invalid(`${where}: ${url} has ${st.size} bytes, the manifest says ${String(entry.size)}`);
    if (typeof entry.sha512 !== 'string') throw invalid(`${where}: ${url} has no sha512`);
    if ((await sha512(path)) !== entry.sha512) throw invalid(`${where}: the SHA-512 of ${url} does not match the manifest`);
    files.add(url);
    // electron-builder's block map, used for differential downloads, travels with its file.
    if (existsSync(join(dir, `${url}.blockmap`))) files.add(`${url}.blockmap`);
  }
  return { manifest, version, files: [...files], allowDowngrade: doc[ALLOW_DOWNGRADE_KEY] === true };
}

/** The manifest's bytes as published: with or without the downgrade flag, otherwise untouched. */
async function manifestBytes(dir: string, manifest: string, allowDowngrade: boolean): Promise<Buffer> {
  const bytes = await readFile(join(dir, manifest));
  const doc = parseDocument(bytes.toString('utf8'));
  if (!allowDowngrade && !doc.has(ALLOW_DOWNGRADE_KEY)) return bytes; // the usual case: exactly electron-builder's bytes
  if (allowDowngrade) doc.set(ALLOW_DOWNGRADE_KEY, true);
  else doc.delete(ALLOW_DOWNGRADE_KEY);
  return Buffer.from(doc.toString());
}

/** Manifests in a directory (none when it does not exist). */
async function manifestsIn(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => MANIFEST.test(n)).sort();
}

/** What is published now. */
export async function publishedUpdates(dataDir: string): Promise<ManifestInfo[]> {
  const dir = updatesDir(dataDir);
  const key = existsSync(signingKeyPath(dataDir)) ? await loadSigningKey(dataDir) : undefined;
  const out: ManifestInfo[] = [];
  for (const manifest of await manifestsIn(dir)) {
    const info = await checkManifest(dir, manifest);
    const signature = await readFile(join(dir, manifest + SIGNATURE_SUFFIX), 'utf8').catch(() => undefined);
    info.signature =
      signature === undefined ? 'none' : !key ? 'present' : signatureVerifies(key, await readFile(join(dir, manifest)), signature) ? 'valid' : 'invalid';
    out.push(info);
  }
  return out;
}

/** Publishes the manifests in `sourceDir` (replacing those of the same name); answers what is published afterwards. */
export async function publishUpdates(sourceDir: string, dataDir: string, options: PublishOptions = {}): Promise<ManifestInfo[]> {
  if (options.allowDowngrade && !options.sign) throw invalid('--allow-downgrade needs --sign: clients only take a downgrade from a signed manifest');
  const key = options.sign ? await loadSigningKey(dataDir) : undefined;
  const incoming = await manifestsIn(sourceDir);
  if (incoming.length === 0) {
    throw invalid(`${sourceDir} has no latest.yml, latest-linux.yml or latest-mac.yml (electron-builder's output with the generic provider)`);
  }
  const fresh: ManifestInfo[] = [];
  for (const manifest of incoming) fresh.push(await checkManifest(sourceDir, manifest));

  const target = updatesDir(dataDir);
  const kept: ManifestInfo[] = [];
  for (const manifest of await manifestsIn(target)) {
    if (incoming.includes(manifest)) continue;
    try {
      kept.push(await checkManifest(target, manifest));
    } catch {
      /* a broken earlier publish: dropped */
    }
  }
  const fromSource = new Set(fresh.flatMap((m) => m.files));
  // A kept manifest keeps its signature (if it has one).
  const keptSignatures = kept.map((m) => m.manifest + SIGNATURE_SUFFIX).filter((f) => existsSync(join(target, f)));
  const fromTarget = new Set([...kept.flatMap((m) => [m.manifest, ...m.files]), ...keptSignatures].filter((f) => !fromSource.has(f)));

  await privateDir(dataDir);
  const stamp = `${process.pid}-${Date.now()}`;
  const staging = `${target}.new-${stamp}`;
  const old = `${target}.old-${stamp}`;
  await privateDir(staging);
  try {
    for (const f of fromTarget) await copyPrivate(join(target, f), join(staging, f));
    for (const f of fromSource) await copyPrivate(join(sourceDir, f), join(staging, f));
    // Manifests last, so even the staging directory never has a manifest before its files.
    for (const m of fresh) {
      const bytes = await manifestBytes(sourceDir, m.manifest, options.allowDowngrade === true);
      if (key) await writeFile(join(staging, m.manifest + SIGNATURE_SUFFIX), signatureFor(key, bytes), { mode: 0o600 });
      await writeFile(join(staging, m.manifest), bytes, { mode: 0o600 });
      m.allowDowngrade = options.allowDowngrade === true;
      m.signature = key ? 'valid' : 'none';
    }
    const hadTarget = existsSync(target);
    if (hadTarget) await rename(target, old);
    await rename(staging, target);
    if (hadTarget) await rm(old, { recursive: true, force: true });
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  return [...fresh, ...kept].sort((a, b) => a.manifest.localeCompare(b.manifest));
}

/** Withdraws every published update: clients find nothing to update to. */
export async function clearUpdates(dataDir: string): Promise<void> {
  await rm(updatesDir(dataDir), { recursive: true, force: true });
}
