/** Bearer-token authentication: the one way in for users and admins. */
import type { Context } from 'koa';
import type { Sessions } from '../auth/sessions.js';
import { AppError } from '../errors.js';
import type { Access } from './route.js';

/** The token of an `Authorization: Bearer <token>` header, if it is one. */
export function bearerToken(header: string | undefined): string | undefined {
  return header ? /^Bearer ([A-Za-z0-9_-]{20,100})$/.exec(header)?.[1] : undefined;
}

export function authenticator(sessions: Sessions) {
  return async function authenticate(ctx: Context, access: Access) {
    const token = bearerToken(ctx.get('authorization'));
    const session = token ? await sessions.verify(token) : undefined;
    if (!session) {
      throw new AppError(401, 'unauthorized', 'log in first: send Authorization: Bearer <token>', { 'WWW-Authenticate': 'Bearer' });
    }
    if (access === 'admin' && !session.user.isAdmin) throw new AppError(403, 'forbidden', 'this needs an administrator');
    ctx.state.session = session;
  };
}
