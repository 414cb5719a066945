/** SQLite implementation of the terminal registry; shares the main store's connection and group commit. */
import type { ClientInfo } from '../../../shared/index.js';
import { toTerminal, type Row } from './rows.js';
import type { Engine } from './sqlite-engine.js';
import type { TerminalRecord, TerminalStore } from './terminals.js';

const SELECT = 'SELECT t.*, u.username FROM terminals t LEFT JOIN users u ON u.id = t.user_id';

export class SqliteTerminalStore implements TerminalStore {
  constructor(private readonly e: Pick<Engine, 'db' | 'prepare' | 'read' | 'write'>) {}

  private one(installId: string): TerminalRecord | undefined {
    const r = this.e.prepare(`${SELECT} WHERE t.install_id = ?`).get(installId) as Row | undefined;
    return r && toTerminal(r);
  }

  register({ client, userId, seats, now = Date.now() }: { client: ClientInfo; userId: number; seats?: number; now?: number }) {
    return this.e.write((): TerminalRecord | 'seat_limit' | 'taken' => {
      const installId = client.installId.toLowerCase();
      const known = this.e.prepare('SELECT user_id FROM terminals WHERE install_id = ?').get(installId) as { user_id: number | null } | undefined;
      if (known) {
        // Another user's terminal is theirs: never overwritten (one whose user was removed is free).
        if (known.user_id !== null && known.user_id !== userId) return 'taken';
        this.e.prepare('UPDATE terminals SET user_id = ?, version = ?, platform = ?, last_seen = ? WHERE install_id = ?')
          .run(userId, client.version, client.platform, now, installId);
      } else {
        const used = this.e.prepare('SELECT count(*) FROM terminals').pluck().get() as number;
        if (seats !== undefined && used >= seats) return 'seat_limit';
        this.e.prepare('INSERT INTO terminals (install_id, user_id, version, platform, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?)')
          .run(installId, userId, client.version, client.platform, now, now);
      }
      return this.one(installId)!;
    });
  }

  list() {
    return this.e.read(() => (this.e.prepare(`${SELECT} ORDER BY t.last_seen DESC, t.install_id`).all() as Row[]).map(toTerminal));
  }

  count() {
    return this.e.read(() => this.e.prepare('SELECT count(*) FROM terminals').pluck().get() as number);
  }

  remove(installId: string) {
    return this.e.write(() => this.e.prepare('DELETE FROM terminals WHERE install_id = ?').run(installId.toLowerCase()).changes > 0);
  }
}
