/**
 * The links area. Its HTML was sanitized by the server (a short allow-list of tags, http/https/
 * mailto links only), which is the only reason it is set as HTML here. Every link click is taken
 * over: the link opens externally and the panel never navigates.
 */
import { t } from '../i18n.js';
import { interceptLinks } from '../platform.js';

export function Links({ html, loaded = true }: { html: string; loaded?: boolean }) {
  return (
    <section class="area links" aria-labelledby="links-title">
      <h2 id="links-title">
        {t('links')} <span class="visually-hidden">{t('opensExternally')}</span>
      </h2>
      {html.trim() ? (
        <div class="links-body rich" onClick={interceptLinks} onAuxClick={interceptLinks} dangerouslySetInnerHTML={{ __html: html }} />
      ) : (
        <p class="empty">{loaded ? t('noLinks') : t('loading')}</p>
      )}
    </section>
  );
}
