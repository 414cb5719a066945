/**
 * Channels as a user sees them: every channel of the ticker, and the user's own choice of which
 * to show, in order (none chosen: the default channels). Who may push to a channel, and its
 * title and default, are the administration's (providers/routes.ts).
 */
import { ChannelsResponse, MyChannelsRequest } from '../../../shared/index.js';
import type { Services } from '../context.js';
import { route } from '../http/route.js';
import type { ChannelRecord } from '../store/portal.js';

export const publicChannel = (c: ChannelRecord) => ({ name: c.name, title: c.title, isDefault: c.isDefault });

/** What a user sees of channels, and their own choice of ticker channels. */
export function channelRoutes({ store, subscriptions }: Services) {
  const view = async (userId: number) => ({
    channels: (await store.portal.listChannels()).map(publicChannel),
    mine: await store.portal.channelsOfUser(userId),
  });
  return [
    route({
      method: 'get',
      path: '/api/v1/channels',
      tag: 'portal',
      summary: 'All channels, and the ticker channels I chose (empty: the defaults)',
      access: 'user',
      response: ChannelsResponse,
      handler: ({ session }) => view(session.user.id),
    }),
    route({
      method: 'put',
      path: '/api/v1/channels/mine',
      tag: 'portal',
      summary: 'Choose my ticker channels, in the order to show them (an empty list: the defaults)',
      access: 'user',
      body: MyChannelsRequest,
      response: ChannelsResponse,
      async handler({ body, session }) {
        await store.portal.setChannelsOfUser(session.user.id, body.channels);
        subscriptions.changed(session.user.id);
        return view(session.user.id);
      },
    }),
  ];
}
