/**
 * Bench-only setup of a Portico data directory, straight through the store (as `portico user add`
 * does), so no login and no login rate limit is involved: n users u0..u(n-1) with one session
 * each, a chat between each pair (u2k, u2k+1), already accepted, and a ticker provider `bench`.
 * Runs against the Portico tree being measured (its own migrations), so an older checkout can be
 * compared with the current one.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface PorticoFixture {
  tokens: string[];
  chats: string[];
  providerKey: string;
}

export async function porticoTemplate(root: string, n: number, cacheDir: string): Promise<{ dir: string; fixture: PorticoFixture }> {
  const dir = join(cacheDir, `template-${n}`);
  const fixtureFile = join(dir, 'fixture.json');
  if (existsSync(fixtureFile)) return { dir, fixture: JSON.parse(readFileSync(fixtureFile, 'utf8')) };
  mkdirSync(dir, { recursive: true });
  const mod = (p: string) => import(pathToFileURL(join(root, 'server/src', p)).href);
  const { SqliteStore } = await mod('store/sqlite.ts');
  const { Sessions } = await mod('auth/sessions.ts');
  const { hashPassword } = await mod('auth/passwords.ts');
  const { ServerSecret } = await mod('secrets.ts');
  const { ProviderAdmin } = await mod('providers/admin.ts');

  const store = new SqliteStore(join(dir, 'portico.db'));
  const passwordHash = await hashPassword('bench password, never used');
  // Every write of one turn lands in one group commit: thousands of users take a second.
  const users = await Promise.all(
    Array.from({ length: n }, (_, i) => store.createUser({ username: `u${i}`, displayName: `User ${i}`, passwordHash, isAdmin: false })),
  );
  const sessions = new Sessions(store, 30);
  const tokens = (await Promise.all(users.map((u: { id: number }) => sessions.create(u.id)))).map((s: { token: string }) => s.token);
  const chats: string[] = [];
  // Chat rules live in chat/rules.ts over store.write since issue 14; older checkouts had them on the store.
  const rules = typeof store.createChat === 'function' ? undefined : await mod('chat/rules.ts');
  const createChat = (creator: number, invitee: number) =>
    rules ? store.write((tx: unknown) => rules.createChat(tx, creator, [invitee])) : store.createChat(creator, [invitee]);
  const accept = (chatId: string, userId: number) =>
    rules ? store.write((tx: unknown) => rules.moveMember(tx, chatId, userId, ['invited'], 'accepted')) : store.changeMembership(chatId, userId, ['invited'], 'accepted');
  const made = await Promise.all(Array.from({ length: n / 2 }, (_, k) => createChat(users[2 * k].id, users[2 * k + 1].id)));
  await Promise.all(made.map((c: { id: string }, k: number) => accept(c.id, users[2 * k + 1].id)));
  for (const c of made) chats.push(c.id, c.id);
  const { key } = await new ProviderAdmin(store, ServerSecret.load(dir)).create({ name: 'bench', channels: ['bench'] });
  await store.close();
  const fixture = { tokens, chats, providerKey: key };
  writeFileSync(fixtureFile, JSON.stringify(fixture));
  return { dir, fixture };
}

/** A fresh copy of the template for one server start. */
export function copyTemplate(template: string, to: string) {
  cpSync(template, to, { recursive: true });
}
