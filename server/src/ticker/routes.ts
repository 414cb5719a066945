import { CreatedResponse, PORTAL_LIMITS, TickerPush, TickerResponse } from '../../../shared/index.js';
import type { Services } from '../context.js';
import { AppError } from '../errors.js';
import { route } from '../http/route.js';
import { ProviderGate } from '../providers/cgi.js';
import { addTicker } from './rules.js';

export function tickerRoutes({ store }: Services) {
  return [
    route({
      method: 'post',
      path: '/cgi/ticker',
      tag: 'providers',
      summary: 'Push a ticker item: channel, text, url?, priority? (-100..100), expires? (seconds from now, Unix seconds or ISO time)',
      access: 'provider',
      body: TickerPush,
      response: CreatedResponse,
      status: 201,
      async handler({ body, provider }) {
        ProviderGate.allow(provider, body.channel);
        if (body.expires !== undefined && body.expires <= Date.now()) throw new AppError(400, 'invalid_request', 'expires: the item would already be over');
        const item = await store.write((tx) =>
          addTicker(tx, provider.id, body.channel, {
          text: body.text,
          url: body.url,
          priority: body.priority,
          expiresAt: body.expires,
        }),
        );
        return { id: item.id, channel: item.channel };
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/ticker',
      tag: 'portal',
      summary: 'The live ticker items of the channels I see, channel by channel in my order, by priority then newest',
      access: 'user',
      response: TickerResponse,
      async handler({ session }) {
        const channels = await store.portal.tickerChannelsFor(session.user.id);
        const items = await store.portal.liveTicker(
          channels.map((c) => c.id),
          Date.now(),
          PORTAL_LIMITS.liveItemsPerChannel,
        );
        return { items, channels: channels.map((c) => c.name) };
      },
    }),
  ];
}
