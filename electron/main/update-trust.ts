/**
 * Whether an update offered by the server may be downloaded. No electron import: main.ts fetches
 * the manifest and its signature and asks here; tests call these functions directly.
 *
 * The organisation signs each manifest (latest.yml, latest-mac.yml, latest-linux.yml, ...) with
 * an Ed25519 key (`portico update keygen`, `portico update publish --sign`): the detached
 * signature `<manifest>.sig` is the base64 of the 64-byte signature over the manifest's exact
 * bytes. The client pins the public key (base64 of its SPKI DER, `updatePublicKey` in the
 * machine-wide configuration), verifies the manifest, and then checks that what electron-updater
 * was offered (version, every file's sha512) is what the signed manifest says. electron-updater
 * itself checks the downloaded installer against that sha512, so the installer is chained to the
 * signature. A downgrade is refused unless the signed manifest says `porticoAllowDowngrade: true`.
 *
 * Without a pinned key the update is trusted as far as the connection (https and the pinned CA),
 * never a downgrade, and never over plain http.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { parse } from 'yaml';

/** The signature next to a manifest. */
export const SIGNATURE_SUFFIX = '.sig';
/** The key in a signed manifest that allows offering an older version. */
export const ALLOW_DOWNGRADE_KEY = 'porticoAllowDowngrade';

/** The manifest electron-updater's generic provider asks for on this platform (channel "latest"). */
export function manifestName(platform: NodeJS.Platform, arch: string): string {
  if (platform === 'linux') return `latest-linux${arch === 'x64' ? '' : `-${arch}`}.yml`;
  return platform === 'darwin' ? 'latest-mac.yml' : 'latest.yml';
}

/** An Ed25519 public key given as the base64 of its SPKI DER (what `portico update keygen` prints). */
export function parsePublicKey(text: string): KeyObject {
  const der = Buffer.from(text.trim(), 'base64');
  if (der.length === 0 || der.toString('base64') !== text.trim().replace(/\s/g, '')) throw new Error('must be base64');
  const key = createPublicKey({ key: der, format: 'der', type: 'spki' });
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`must be an Ed25519 key, not ${key.asymmetricKeyType}`);
  return key;
}

/** True when `text` is a usable pinned key (for the configuration schema). */
export function isPublicKey(text: string): boolean {
  try {
    parsePublicKey(text);
    return true;
  } catch {
    return false;
  }
}

export interface ManifestFile {
  url: string;
  sha512: string;
  size?: number;
}

export interface SignedManifest {
  version: string;
  files: ManifestFile[];
  allowDowngrade: boolean;
}

export type Verdict<T> = { ok: true; value: T } | { ok: false; reason: string };

/** The files a manifest names, as electron-updater reads them (`files`, else the older `path`). */
function filesOf(doc: Record<string, unknown>): ManifestFile[] | undefined {
  const list = Array.isArray(doc.files) && doc.files.length > 0 ? doc.files : doc.path !== undefined ? [{ url: doc.path, sha512: doc.sha512 }] : [];
  const files: ManifestFile[] = [];
  for (const entry of list as Array<Record<string, unknown>>) {
    if (typeof entry?.url !== 'string' || typeof entry.sha512 !== 'string') return undefined;
    files.push({ url: entry.url, sha512: entry.sha512, ...(typeof entry.size === 'number' ? { size: entry.size } : {}) });
  }
  return files.length > 0 ? files : undefined;
}

/** Verifies the manifest's bytes against its detached signature; answers what it says. */
export function verifyManifest(manifest: Buffer, signature: string | undefined, publicKey: string): Verdict<SignedManifest> {
  if (signature === undefined || signature.trim() === '') return { ok: false, reason: 'the manifest is not signed' };
  let key: KeyObject;
  try {
    key = parsePublicKey(publicKey);
  } catch (error) {
    return { ok: false, reason: `the pinned updatePublicKey is unusable (${(error as Error).message})` };
  }
  const raw = Buffer.from(signature.trim(), 'base64');
  if (raw.length !== 64 || !verify(null, manifest, key, raw)) return { ok: false, reason: 'the manifest signature does not verify with the pinned key' };
  let doc: unknown;
  try {
    doc = parse(manifest.toString('utf8'));
  } catch (error) {
    return { ok: false, reason: `the signed manifest is not valid YAML (${(error as Error).message})` };
  }
  if (typeof doc !== 'object' || doc === null) return { ok: false, reason: 'the signed manifest is not a manifest' };
  const fields = doc as Record<string, unknown>;
  const files = filesOf(fields);
  if (typeof fields.version !== 'string' || !files) return { ok: false, reason: 'the signed manifest has no version or no files with sha512' };
  return { ok: true, value: { version: fields.version, files, allowDowngrade: fields[ALLOW_DOWNGRADE_KEY] === true } };
}

// ---------- versions ----------

const VERSION = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

/** Semantic-version order (build metadata ignored): negative, zero or positive; undefined if either is no version. */
export function compareVersions(a: string, b: string): number | undefined {
  const x = VERSION.exec(a.trim());
  const y = VERSION.exec(b.trim());
  if (!x || !y) return undefined;
  for (let i = 1; i <= 3; i++) {
    const d = Number(x[i]) - Number(y[i]);
    if (d !== 0) return Math.sign(d);
  }
  const [pa, pb] = [x[4], y[4]];
  if (pa === undefined || pb === undefined) return pa === pb ? 0 : pa === undefined ? 1 : -1; // a release is above its pre-releases
  const ia = pa.split('.');
  const ib = pb.split('.');
  for (let i = 0; i < Math.max(ia.length, ib.length); i++) {
    if (ia[i] === undefined) return -1;
    if (ib[i] === undefined) return 1;
    const [na, nb] = [/^\d+$/.test(ia[i]!), /^\d+$/.test(ib[i]!)];
    if (na && nb && Number(ia[i]) !== Number(ib[i])) return Math.sign(Number(ia[i]) - Number(ib[i]));
    if (na !== nb) return na ? -1 : 1; // numeric identifiers sort below alphanumeric ones
    if (ia[i]! !== ib[i]!) return ia[i]! < ib[i]! ? -1 : 1;
  }
  return 0;
}

// ---------- the decision ----------

/** What electron-updater's 'update-available' hands over (its UpdateInfo, as far as it matters here). */
export interface OfferedUpdate {
  version: string;
  files?: Array<{ url: string; sha512: string; size?: number }>;
  path?: string;
  sha512?: string;
}

export interface UpdateDecisionInput {
  currentVersion: string;
  offered: OfferedUpdate;
  /** The verified manifest, when a key is pinned (undefined: no key, trust the connection). */
  signed?: SignedManifest;
}

/** May the offered update be downloaded? */
export function decideUpdate({ currentVersion, offered, signed }: UpdateDecisionInput): Verdict<{ version: string }> {
  const order = compareVersions(offered.version, currentVersion);
  if (order === undefined) return { ok: false, reason: `${JSON.stringify(offered.version)} is not a version` };
  if (order === 0) return { ok: false, reason: `${offered.version} is already installed` };
  if (signed) {
    if (signed.version !== offered.version) return { ok: false, reason: `offered ${offered.version}, but the signed manifest says ${signed.version}` };
    const offeredFiles = filesOf(offered as unknown as Record<string, unknown>);
    const key = (f: ManifestFile) => `${f.url}\n${f.sha512}`;
    const mine = new Set(signed.files.map(key));
    if (!offeredFiles || offeredFiles.length !== mine.size || !offeredFiles.every((f) => mine.has(key(f)))) {
      return { ok: false, reason: `the files offered for ${offered.version} are not the ones the signed manifest names` };
    }
    // The older single-file form, when present, must name one of the signed files too.
    if (offered.path !== undefined && !mine.has(`${offered.path}\n${offered.sha512}`)) {
      return { ok: false, reason: `the file offered for ${offered.version} is not one the signed manifest names` };
    }
  }
  if (order < 0 && !signed?.allowDowngrade) {
    return {
      ok: false,
      reason: `${offered.version} is older than the installed ${currentVersion}: a downgrade needs a signed manifest that allows it (portico update publish --sign --allow-downgrade)`,
    };
  }
  return { ok: true, value: { version: offered.version } };
}
