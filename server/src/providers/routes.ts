import {
  ChannelParams,
  ChannelResponse,
  CreateProviderRequest,
  OkResponse,
  ProviderParams,
  ProviderResponse,
  ProvidersResponse,
  ProviderWithKeyResponse,
  SetProviderChannelsRequest,
  UpdateChannelRequest,
} from '../../../shared/index.js';
import type { Services } from '../context.js';
import { route } from '../http/route.js';
import { publicChannel } from '../channels/routes.js';
import { ProviderAdmin, publicProvider } from './admin.js';

/** Administration of providers and channels. */
export function providerAdminRoutes({ store, secret, subscriptions }: Services) {
  const admin = new ProviderAdmin(store, secret, () => subscriptions.changed('all'));
  const common = { tag: 'admin', access: 'admin' } as const;
  const withKey = ({ provider, key }: { provider: Parameters<typeof publicProvider>[0]; key: string }) => ({ provider: publicProvider(provider), key });
  return [
    route({
      ...common,
      method: 'get',
      path: '/api/v1/admin/providers',
      summary: 'Content providers and their channels',
      response: ProvidersResponse,
      async handler() {
        return { providers: (await admin.list()).map(publicProvider) };
      },
    }),
    route({
      ...common,
      method: 'post',
      path: '/api/v1/admin/providers',
      summary: 'Create a content provider for some channels (made as needed); its key is shown only in this answer',
      body: CreateProviderRequest,
      response: ProviderWithKeyResponse,
      status: 201,
      async handler({ body }) {
        return withKey(await admin.create(body));
      },
    }),
    route({
      ...common,
      method: 'post',
      path: '/api/v1/admin/providers/:name/key',
      summary: "Replace a provider's key (the old one stops working at once)",
      params: ProviderParams,
      response: ProviderWithKeyResponse,
      async handler({ params }) {
        return withKey(await admin.rotate(params.name));
      },
    }),
    route({
      ...common,
      method: 'put',
      path: '/api/v1/admin/providers/:name/channels',
      summary: 'Replace the channels a provider may push to (made as needed); its key stays',
      params: ProviderParams,
      body: SetProviderChannelsRequest,
      response: ProviderResponse,
      async handler({ params, body }) {
        return { provider: publicProvider(await admin.setChannels(params.name, body.channels)) };
      },
    }),
    route({
      ...common,
      method: 'delete',
      path: '/api/v1/admin/providers/:name',
      summary: 'Remove a provider (what it pushed stays until it expires)',
      params: ProviderParams,
      response: OkResponse,
      async handler({ params }) {
        await admin.remove(params.name);
        return { ok: true };
      },
    }),
    route({
      ...common,
      method: 'put',
      path: '/api/v1/admin/channels/:name',
      summary: "Set a channel's title, and whether users who chose nothing see it (default)",
      params: ChannelParams,
      body: UpdateChannelRequest,
      response: ChannelResponse,
      async handler({ params, body }) {
        const channel = await store.portal.updateChannel(params.name, body);
        subscriptions.changed('all'); // who sees it by default may have changed
        return { channel: publicChannel(channel) };
      },
    }),
  ];
}
