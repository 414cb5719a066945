/** Published client updates in the admin API: what `portico update list` shows (publishing stays a CLI step: it reads installers from a folder). */
import { UpdatesResponse } from '../../../shared/index.js';
import type { Services } from '../context.js';
import { route } from '../http/route.js';

export function updateRoutes({ config }: Services) {
  return [
    route({
      tag: 'admin',
      access: 'admin',
      method: 'get',
      path: '/api/v1/admin/updates',
      summary: 'Published client updates: each manifest with its version, files and signature state',
      response: UpdatesResponse,
      async handler() {
        const { publishedUpdates } = await import('./publish.js'); // only when asked: publishing code is not needed to serve
        return { updates: await publishedUpdates(config.dataDir), enabled: config.updatesEnabled };
      },
    }),
  ];
}
