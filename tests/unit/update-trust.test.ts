/**
 * The client's update checks (electron/main/update-trust.ts), with manifests signed by the
 * server's own signing code (server/src/updates/signing.ts), so both sides agree on the format.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { compareVersions, decideUpdate, isPublicKey, manifestName, verifyManifest, type SignedManifest } from '../../electron/main/update-trust.js';
import { publicKeyText, signatureFor } from '../../server/src/updates/signing.js';

const SHA_A = 'a'.repeat(86) + '==';
const SHA_B = 'b'.repeat(86) + '==';
const manifest = (version: string, extra = '') =>
  Buffer.from(
    `version: ${version}\nfiles:\n  - url: Portico-${version}-win-x64.exe\n    sha512: ${SHA_A}\n    size: 1000\npath: Portico-${version}-win-x64.exe\nsha512: ${SHA_A}\nreleaseDate: '2025-01-01T00:00:00.000Z'\n${extra}`,
  );
const keyPair = () => {
  const { privateKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey: publicKeyText(privateKey) };
};
const offer = (version: string, sha512 = SHA_A) => ({
  version,
  files: [{ url: `Portico-${version}-win-x64.exe`, sha512, size: 1000 }],
  path: `Portico-${version}-win-x64.exe`,
  sha512,
});
const verified = (bytes: Buffer, key: KeyObject, publicKey: string): SignedManifest => {
  const verdict = verifyManifest(bytes, signatureFor(key, bytes), publicKey);
  if (!verdict.ok) throw new Error(verdict.reason);
  return verdict.value;
};

describe('verifyManifest', () => {
  const { privateKey, publicKey } = keyPair();
  const bytes = manifest('1.3.0');

  it('accepts a manifest signed with the pinned key and answers what it says', () => {
    expect(verified(bytes, privateKey, publicKey)).toEqual({
      version: '1.3.0',
      files: [{ url: 'Portico-1.3.0-win-x64.exe', sha512: SHA_A, size: 1000 }],
      allowDowngrade: false,
    });
    expect(verified(manifest('1.1.0', 'porticoAllowDowngrade: true\n'), privateKey, publicKey).allowDowngrade).toBe(true);
  });

  it('refuses an unsigned manifest', () => {
    for (const signature of [undefined, '', '  \n']) {
      expect(verifyManifest(bytes, signature, publicKey)).toEqual({ ok: false, reason: 'the manifest is not signed' });
    }
  });

  it('refuses a signature by another key, a garbled signature, and a tampered manifest', () => {
    const other = keyPair();
    const reason = 'the manifest signature does not verify with the pinned key';
    expect(verifyManifest(bytes, signatureFor(other.privateKey, bytes), publicKey)).toEqual({ ok: false, reason });
    expect(verifyManifest(bytes, 'bm90IGEgc2lnbmF0dXJl', publicKey)).toEqual({ ok: false, reason });
    const signature = signatureFor(privateKey, bytes);
    const tampered = Buffer.from(bytes.toString().replace(SHA_A, SHA_B));
    expect(verifyManifest(tampered, signature, publicKey)).toEqual({ ok: false, reason });
    // Even one added byte (a downgrade flag slipped in after signing) breaks it.
    expect(verifyManifest(Buffer.concat([bytes, Buffer.from('porticoAllowDowngrade: true\n')]), signature, publicKey).ok).toBe(false);
  });

  it('reports an unusable pinned key', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
    for (const key of ['not a key', rsa, '']) {
      const verdict = verifyManifest(bytes, signatureFor(privateKey, bytes), key);
      expect(verdict.ok).toBe(false);
      expect(!verdict.ok && verdict.reason).toMatch(/pinned updatePublicKey is unusable/);
      expect(isPublicKey(key)).toBe(false);
    }
    expect(isPublicKey(publicKey)).toBe(true);
  });
});

describe('decideUpdate', () => {
  const { privateKey, publicKey } = keyPair();

  it('lets a signed newer version through when the offer matches the manifest', () => {
    const signed = verified(manifest('1.3.0'), privateKey, publicKey);
    expect(decideUpdate({ currentVersion: '1.2.0', offered: offer('1.3.0'), signed })).toEqual({ ok: true, value: { version: '1.3.0' } });
  });

  it('refuses an offer that is not what the signed manifest says (version or sha512)', () => {
    const signed = verified(manifest('1.3.0'), privateKey, publicKey);
    const version = decideUpdate({ currentVersion: '1.2.0', offered: offer('1.4.0'), signed });
    expect(version).toEqual({ ok: false, reason: 'offered 1.4.0, but the signed manifest says 1.3.0' });
    const sha = decideUpdate({ currentVersion: '1.2.0', offered: offer('1.3.0', SHA_B), signed });
    expect(sha.ok).toBe(false);
    expect(!sha.ok && sha.reason).toMatch(/not the ones the signed manifest names/);
    const extraFile = { ...offer('1.3.0'), files: [...offer('1.3.0').files, { url: 'other.exe', sha512: SHA_B }] };
    expect(decideUpdate({ currentVersion: '1.2.0', offered: extraFile, signed }).ok).toBe(false);
    const otherPath = { ...offer('1.3.0'), path: 'other.exe' };
    expect(decideUpdate({ currentVersion: '1.2.0', offered: otherPath, signed }).ok).toBe(false);
  });

  it('refuses a downgrade unless the signed manifest allows it', () => {
    const plain = verified(manifest('1.1.0'), privateKey, publicKey);
    const refused = decideUpdate({ currentVersion: '1.2.0', offered: offer('1.1.0'), signed: plain });
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.reason).toMatch(/older than the installed 1\.2\.0.*--allow-downgrade/);
    const allowing = verified(manifest('1.1.0', 'porticoAllowDowngrade: true\n'), privateKey, publicKey);
    expect(decideUpdate({ currentVersion: '1.2.0', offered: offer('1.1.0'), signed: allowing }).ok).toBe(true);
  });

  it('without a pinned key: newer versions only (trusted as far as the connection), never a downgrade', () => {
    expect(decideUpdate({ currentVersion: '1.2.0', offered: offer('1.3.0') }).ok).toBe(true);
    expect(decideUpdate({ currentVersion: '1.2.0', offered: offer('1.1.0') }).ok).toBe(false);
    expect(decideUpdate({ currentVersion: '1.2.0', offered: offer('1.2.0') }).ok).toBe(false);
    expect(decideUpdate({ currentVersion: '1.2.0', offered: offer('banana') }).ok).toBe(false);
  });
});

describe('versions and manifest names', () => {
  it('orders versions as semver does', () => {
    const ordered = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.0.1', '1.10.0', '2.0.0'];
    for (let i = 0; i + 1 < ordered.length; i++) {
      expect(compareVersions(ordered[i]!, ordered[i + 1]!), `${ordered[i]} < ${ordered[i + 1]}`).toBe(-1);
      expect(compareVersions(ordered[i + 1]!, ordered[i]!)).toBe(1);
    }
    expect(compareVersions('1.2.3+build.5', '1.2.3')).toBe(0);
    expect(compareVersions('1.2', '1.2.0')).toBeUndefined();
  });

  it("names the manifest electron-updater's generic provider asks for", () => {
    expect(manifestName('win32', 'x64')).toBe('latest.yml');
    expect(manifestName('darwin', 'arm64')).toBe('latest-mac.yml');
    expect(manifestName('linux', 'x64')).toBe('latest-linux.yml');
    expect(manifestName('linux', 'arm64')).toBe('latest-linux-arm64.yml');
  });
});
