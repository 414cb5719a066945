/**
 * This installation's identity, reported with every login (`client` in POST /api/v1/login) so
 * the server can list terminals and count seats: a random install id created once and kept in
 * <userData>/install.json, the app version and the platform. Plain Node, unit-tested without
 * Electron (tests/unit/electron-install.test.ts).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClientInfo } from '../../shared/schemas.js';

export const INSTALL_FILE = 'install.json';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function readInstallId(file: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    const id = parsed && typeof parsed === 'object' ? (parsed as { installId?: unknown }).installId : undefined;
    return typeof id === 'string' && UUID.test(id) ? id.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The install id kept in `<dir>/install.json`, created on first use (and again only when the file
 * is missing or unreadable). Throws when a new id cannot be saved: an id that would change with
 * every start would take a new seat each time.
 */
export function loadInstallId(dir: string, newId: () => string = randomUUID): string {
  const file = join(dir, INSTALL_FILE);
  const existing = readInstallId(file);
  if (existing) return existing;
  const installId = newId();
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify({ installId, created: new Date().toISOString() }, null, 2)}\n`, { mode: 0o644 });
  renameSync(temporary, file);
  return installId;
}

/**
 * What the client reports at login, or null when it could not be determined or the server would
 * refuse it (an unsupported platform, a version that is not x.y.z): the login then goes without.
 */
export function clientInfo(input: { userDataDir: string; version: string; platform: string }, newId?: () => string): ClientInfo | null {
  let installId: string;
  try {
    installId = loadInstallId(input.userDataDir, newId);
  } catch (error) {
    console.warn(`install id not available: ${String(error)}`);
    return null;
  }
  const parsed = ClientInfo.safeParse({ installId, version: input.version, platform: input.platform });
  return parsed.success ? parsed.data : null;
}
