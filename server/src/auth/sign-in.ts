/** The end of every sign-in (password, directory, single sign-on): the terminal, then the session. */
import type { ClientInfo } from '../../../shared/index.js';
import type { Services } from '../context.js';
import { AppError } from '../errors.js';
import { avatarOf } from '../me/views.js';
import type { UserRecord } from '../store/store.js';

export async function openSession({ store, sessions, config }: Pick<Services, 'store' | 'sessions' | 'config'>, user: UserRecord, client: ClientInfo | undefined) {
  if (client) {
    // An installed client: register the terminal (a new one only while seats are free; only one's own).
    const terminal = await store.terminals.register({ client, userId: user.id, seats: config.seats });
    if (terminal === 'taken') {
      throw new AppError(
        409,
        'conflict',
        'this install id is registered to another user of this server; ask your administrator to remove that terminal (portico terminal remove) if this computer changed hands',
      );
    }
    if (terminal === 'seat_limit') {
      throw new AppError(
        403,
        'seat_limit',
        `all ${config.seats} seats of this Portico server are taken, so this computer cannot be added; ask your administrator to free a seat (portico terminal remove) or raise the limit`,
      );
    }
  }
  const session = await sessions.create(user.id);
  return {
    token: session.token,
    expiresAt: new Date(session.expiresAt).toISOString(),
    user: { id: user.id, username: user.username, displayName: user.displayName, ...avatarOf(user) },
  };
}
