/**
 * Single sign-on accounts in Portico, as functions over a store transaction (the model of
 * directory/rules.ts): an account is local, directory or sso, and SSO never takes over an
 * account of another source with the same ID.
 */
import { UNUSABLE_HASH } from '../auth/passwords.js';
import * as contacts from '../contacts/rules.js';
import type { StoreTx, UserRecord } from '../store/store.js';
import type { SsoIdentity } from './oidc.js';

export type SsoSignIn = { user: UserRecord } | { refused: 'other_source'; source: UserRecord['source'] } | { refused: 'disabled' };

/**
 * The Portico account of a user who just signed in through the provider: made on the first
 * sign-in (source sso, no usable password), its display name kept as the provider says. Refused
 * for a local or directory account with that ID, and for a disabled SSO account (an
 * administrator's decision, which the provider does not overrule).
 */
export async function signedInSsoUser(tx: StoreTx, who: SsoIdentity): Promise<SsoSignIn> {
  const user = await tx.userByName(who.username);
  if (!user) return { user: await tx.insertUser({ username: who.username, displayName: who.displayName, passwordHash: UNUSABLE_HASH, isAdmin: false, source: 'sso' }) };
  if (user.source !== 'sso') return { refused: 'other_source', source: user.source };
  if (user.disabled) return { refused: 'disabled' };
  if (user.displayName !== who.displayName) {
    await tx.updateProfile(user.id, { displayName: who.displayName });
    await contacts.displayNameChanged(tx, user.id);
  }
  return { user: (await tx.user(user.id))! };
}
