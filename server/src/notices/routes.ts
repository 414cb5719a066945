/**
 * Notices: a provider posts a short announcement, as plain text (data, rendered as text by the
 * panel) or as HTML (sanitized here, before it is stored), optionally scheduled (`starts`) and
 * ending (`ends`). Users read the notices that are not over yet.
 */
import { CreatedResponse, NoticePush, NoticesResponse } from '../../../shared/index.js';
import type { Services } from '../context.js';
import { AppError } from '../errors.js';
import { route } from '../http/route.js';
import { hasContent, sanitize } from '../links/sanitize.js';
import { ProviderGate } from '../providers/cgi.js';
import { addNotice } from './rules.js';

const invalid = (message: string) => new AppError(400, 'invalid_request', message);

export function noticeRoutes({ store }: Services) {
  return [
    route({
      method: 'post',
      path: '/cgi/notice',
      tag: 'providers',
      summary:
        'Push a notice: channel, text or html (sanitized: a small set of tags, http/https/mailto links), url?, priority? (-100..100), ' +
        'starts? and ends? (ISO time or Unix seconds)',
      access: 'provider',
      body: NoticePush,
      response: CreatedResponse,
      status: 201,
      async handler({ body, provider }) {
        ProviderGate.allow(provider, body.channel);
        let html: string | undefined;
        if (body.html !== undefined) {
          html = sanitize(body.html);
          if (!hasContent(html)) throw invalid('html: nothing is left after sanitizing (allowed: p br b i em strong u a ul ol li span h3 h4 small img)');
        }
        const now = Date.now();
        if (body.ends !== undefined) {
          if (body.ends <= now) throw invalid('ends: this time has passed; the notice would never be shown');
          if (body.starts !== undefined && body.ends <= body.starts) throw invalid('ends: must be after starts');
        }
        const notice = await store.write((tx) =>
          addNotice(tx, provider.id, body.channel, {
          text: body.text,
          html,
          url: body.url,
          priority: body.priority,
          startsAt: body.starts,
          endsAt: body.ends,
        }),
        );
        return { id: notice.id, channel: notice.channel };
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/notices',
      tag: 'portal',
      summary: 'The notices not over yet (those scheduled for later included, with their startsAt), by priority then newest',
      access: 'user',
      response: NoticesResponse,
      async handler() {
        return { notices: await store.portal.liveNotices(Date.now()) };
      },
    }),
  ];
}
