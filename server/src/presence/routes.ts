import { PresenceRequest, PresenceResponse } from '../../../shared/index.js';
import type { Services } from '../context.js';
import { route } from '../http/route.js';

export function presenceRoutes({ presence }: Services) {
  return [
    route({
      method: 'put',
      path: '/api/v1/presence',
      tag: 'presence',
      summary: 'Choose available, away, busy, or offline (appear offline)',
      access: 'user',
      body: PresenceRequest,
      response: PresenceResponse,
      async handler({ body, session: { user } }) {
        const effective = (await presence.choose(user.id, body.state)) ?? 'offline';
        return { state: body.state, effective };
      },
    }),
  ];
}
