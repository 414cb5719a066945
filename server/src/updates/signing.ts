/**
 * The organisation's update signing key (Ed25519, node:crypto). `portico update keygen` writes the
 * private key to <dataDir>/update-signing.key (PKCS#8 PEM, 0600) and prints the public key as the
 * base64 of its SPKI DER: one line, for `updatePublicKey` in the clients' machine-wide
 * configuration. `portico update publish --sign` writes `<manifest>.sig` next to each manifest:
 * the base64 of the 64-byte signature over the manifest's exact bytes, and a newline.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AppError } from '../errors.js';
import { privateDirSync, tightenIfExists } from '../private-fs.js';

export const SIGNATURE_SUFFIX = '.sig';
export const signingKeyPath = (dataDir: string) => join(resolve(dataDir), 'update-signing.key');

/** The public key as clients pin it: base64 of the SPKI DER. */
export const publicKeyText = (key: KeyObject) => createPublicKey(key).export({ format: 'der', type: 'spki' }).toString('base64');

/** Makes a new key pair; refuses to replace an existing key unless `force` (clients pinned the old one). */
export async function generateSigningKey(dataDir: string, force = false): Promise<{ path: string; publicKey: string }> {
  const path = signingKeyPath(dataDir);
  privateDirSync(resolve(dataDir));
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' });
  try {
    await writeFile(path, pem, { mode: 0o600, flag: force ? 'w' : 'wx' });
    tightenIfExists(path); // a replaced key keeps its old mode otherwise
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new AppError(409, 'conflict', `${path} exists: clients pin its public key; use --force to replace it (then give clients the new key)`);
    }
    throw error;
  }
  return { path, publicKey: publicKeyText(privateKey) };
}

export async function loadSigningKey(dataDir: string): Promise<KeyObject> {
  const path = signingKeyPath(dataDir);
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new AppError(400, 'invalid_request', `no signing key at ${path}: run \`portico update keygen\` first`);
    throw error;
  }
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new AppError(400, 'invalid_request', `${path} is not an Ed25519 key`);
  return key;
}

/** The detached signature file's content for `bytes`. */
export const signatureFor = (key: KeyObject, bytes: Buffer) => `${sign(null, bytes, key).toString('base64')}\n`;

export function signatureVerifies(key: KeyObject, bytes: Buffer, signature: string): boolean {
  const raw = Buffer.from(signature.trim(), 'base64');
  return raw.length === 64 && verify(null, bytes, createPublicKey(key), raw);
}
