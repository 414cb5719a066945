/** The terminal registry part of the Store: installed clients, as they report themselves at login. */
import type { ClientInfo } from '../../../shared/index.js';

export interface TerminalRecord {
  installId: string;
  userId: number | null;
  /** Who last logged in from it (null once that user is removed). */
  username: string | null;
  version: string;
  platform: ClientInfo['platform'];
  firstSeen: number;
  lastSeen: number;
}

export interface TerminalStore {
  /**
   * Records a login from this terminal: a known one of this user (or of a removed user) is refreshed
   * (user, version, last seen); another user's is left as it is, answering 'taken'; a new one is
   * added unless `seats` terminals are registered already, answering 'seat_limit' then.
   * Check and write are one write, so two new terminals cannot both take the last seat.
   */
  register(input: { client: ClientInfo; userId: number; seats?: number; now?: number }): Promise<TerminalRecord | 'seat_limit' | 'taken'>;
  /** All terminals, most recently seen first. */
  list(): Promise<TerminalRecord[]>;
  count(): Promise<number>;
  /** Forgets a terminal (frees its seat); false if there was none. */
  remove(installId: string): Promise<boolean>;
}
