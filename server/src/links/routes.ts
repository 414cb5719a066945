/** The links area: a block of HTML an administrator sets (sanitized before it is stored) and every user sees. */
import { LinksResponse, SetLinksRequest } from '../../../shared/index.js';
import type { Services } from '../context.js';
import { route } from '../http/route.js';
import { setLinks } from './rules.js';
import { sanitize } from './sanitize.js';

export function linksRoutes({ store }: Services) {
  return [
    route({
      method: 'put',
      path: '/api/v1/admin/links',
      tag: 'admin',
      summary: 'Set the links area (HTML, sanitized: a small set of tags, http/https/mailto links; empty clears it)',
      access: 'admin',
      body: SetLinksRequest,
      response: LinksResponse,
      async handler({ body }) {
        const html = sanitize(body.html);
        return store.write((tx) => setLinks(tx, html));
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/links',
      tag: 'portal',
      summary: 'The links area (sanitized HTML; empty when none was set)',
      access: 'user',
      response: LinksResponse,
      async handler() {
        return store.portal.links();
      },
    }),
  ];
}
