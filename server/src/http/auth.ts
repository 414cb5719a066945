/** Bearer-token authentication: the one way in for users and admins. */
import type { Context } from 'koa';
import type { Sessions } from '../auth/sessions.js';
import { AppError } from '../errors.js';
import type { Access } from './route.js';

export function authenticator(sessions: Sessions) {
  return async function authenticate(ctx: Context, access: Access) {
    const match = /^Bearer ([A-Za-z0-9_-]{20,100})$/.exec(ctx.get('authorization'));
    const session = match ? await sessions.verify(match[1]!) : undefined;
    if (!session) {
      throw new AppError(401, 'unauthorized', 'log in first: send Authorization: Bearer <token>', { 'WWW-Authenticate': 'Bearer' });
    }
    if (access === 'admin' && !session.user.isAdmin) throw new AppError(403, 'forbidden', 'this needs an administrator');
    ctx.state.session = session;
  };
}
