/** The terminal registry in the admin API: installed clients with version, platform and last login. */
import { OkResponse, TerminalParams, TerminalsResponse } from '../../../shared/index.js';
import type { Services } from '../context.js';
import { notFound } from '../errors.js';
import { route } from '../http/route.js';
import type { TerminalRecord } from '../store/terminals.js';

const iso = (ms: number) => new Date(ms).toISOString();

export const toTerminal = (t: TerminalRecord) => ({
  installId: t.installId,
  username: t.username,
  version: t.version,
  platform: t.platform,
  firstSeen: iso(t.firstSeen),
  lastSeen: iso(t.lastSeen),
});

export function terminalRoutes({ store, config }: Services) {
  return [
    route({
      tag: 'admin',
      access: 'admin',
      method: 'get',
      path: '/api/v1/admin/terminals',
      summary: 'Installed clients (terminals): user, version, platform, last seen; seats used and the cap',
      response: TerminalsResponse,
      async handler() {
        const terminals = (await store.terminals.list()).map(toTerminal);
        return { terminals, seats: { used: terminals.length, limit: config.seats ?? null } };
      },
    }),
    route({
      tag: 'admin',
      access: 'admin',
      method: 'delete',
      path: '/api/v1/admin/terminals/:installId',
      summary: 'Forget a terminal and free its seat (it registers again at its next login, if a seat is free)',
      params: TerminalParams,
      response: OkResponse,
      async handler({ params }) {
        if (!(await store.terminals.remove(params.installId))) throw notFound(`terminal ${params.installId}`);
        return { ok: true as const };
      },
    }),
  ];
}
