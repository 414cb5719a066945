import { ChangePasswordRequest, LoginRequest, LoginResponse, OkResponse, Username } from '../../../shared/index.js';
import type { Services } from '../context.js';
import { DirectoryUnavailable, type Directory } from '../directory/ldap.js';
import { signedInDirectoryUser } from '../directory/rules.js';
import { AppError } from '../errors.js';
import type { UserRecord } from '../store/store.js';
import { route } from '../http/route.js';
import { LoginLimits } from './login-limits.js';
import { hashPassword, UNUSABLE_HASH, verifyPassword } from './passwords.js';
import { openSession } from './sign-in.js';
import { ssoRoutes } from '../sso/routes.js';

export function authRoutes(services: Services) {
  const { store, sessions, presence, subscriptions, config, log, directory, limits: shared } = services;
  const limits = new LoginLimits(config, shared);

  /** The directory user's Portico account (made or brought up to date), or undefined for a wrong ID or password. */
  async function directorySignIn(client: Directory, username: string, password: string): Promise<UserRecord | undefined> {
    // An ID Portico cannot take is nobody in the directory either; it never reaches the filter unescaped anyway.
    if (!Username.safeParse(username).success) return undefined;
    let found;
    try {
      found = await client.authenticate(username, password);
    } catch (error) {
      if (!(error instanceof DirectoryUnavailable)) throw error;
      log.warn({ err: error }, 'directory sign-in: the directory cannot be reached');
      throw new AppError(503, 'directory_unavailable', 'the company directory cannot be reached just now; try again in a moment (local accounts still sign in)');
    }
    return found && store.write((tx) => signedInDirectoryUser(tx, found));
  }

  return [
    route({
      method: 'post',
      path: '/api/v1/login',
      tag: 'auth',
      summary: 'Log in with ID and password; answers a bearer token',
      access: 'public',
      body: LoginRequest,
      response: LoginResponse,
      errors: [503],
      async handler({ body }, ctx) {
        // The attempt's points are taken before scrypt runs, so parallel guesses cannot outrun the limits.
        const settle = await limits.admit(body.username, ctx.ip);
        const known = await store.userByName(body.username);
        let user: UserRecord | undefined;
        if (directory && (!known || known.source === 'directory')) {
          // A directory account (or an ID Portico does not know): the directory checks the password.
          user = await directorySignIn(directory.client, body.username, body.password);
        } else {
          // A local account, the admin included, never depends on the directory; SSO accounts have no password here.
          const local = known?.source === 'local' && !known.disabled ? known : undefined;
          const ok = await verifyPassword(body.password, local?.passwordHash ?? UNUSABLE_HASH);
          if (ok) user = local;
        }
        await settle(Boolean(user));
        if (!user) throw new AppError(401, 'invalid_credentials', 'wrong user ID or password');
        return openSession({ store, sessions, config }, user, body.client);
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/logout',
      tag: 'auth',
      summary: 'End this session; the user shows offline at once if it was their last',
      access: 'user',
      response: OkResponse,
      async handler({ session }) {
        await store.deleteSession(session.tokenId);
        await subscriptions.sessionsEnded({ tokenIds: [session.tokenId] });
        await presence.sessionEnded(session.user.id, session.tokenId);
        return { ok: true };
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/me/password',
      tag: 'auth',
      summary:
        'Change my password: a wrong old password is 403 wrong_password and counts toward the login limits (429 past them); ' +
        'my other sessions end, this one stays',
      access: 'user',
      body: ChangePasswordRequest,
      response: OkResponse,
      errors: [403, 429],
      async handler({ body, session }, ctx) {
        const { user } = session;
        // The same limits as a login: a stolen session must not become a password oracle.
        const settle = await limits.admit(user.username, ctx.ip);
        const current = await store.userById(user.id);
        const ok = await verifyPassword(body.oldPassword, current?.passwordHash ?? UNUSABLE_HASH);
        await settle(ok);
        if (!ok) throw new AppError(403, 'wrong_password', 'the old password is wrong');
        const ended = await store.setPassword(user.id, await hashPassword(body.newPassword), session.tokenId);
        await subscriptions.sessionsEnded({ tokenIds: ended }); // their held polls answer now, on any node; the next one is 401
        for (const tokenId of ended) await presence.sessionEnded(user.id, tokenId);
        return { ok: true };
      },
    }),
    // Single sign-on shares the per-address login limit with the password sign-in.
    ...ssoRoutes(services, limits),
  ];
}
