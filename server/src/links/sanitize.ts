/**
 * The one HTML sanitizer of the server, for the two places where provider or administrator HTML
 * is shown as markup: notices and the links area. Built on sanitize-html with a small allow-list:
 * - tags: p br b i em strong u a ul ol li span h3 h4 small img; any other tag is discarded (its
 *   text kept, except for tags whose content is code or another language: script, style, svg…);
 * - attributes: a href/title, img src/alt/title/width/height; no style, class, id or on* ever;
 * - URLs: absolute only, `http:`, `https:` and `mailto:` for links, `http:`/`https:` for images
 *   (anything else — javascript:, data:, vbscript:, relative or protocol-relative — is dropped,
 *   and an image without a source goes with it);
 * - every link opens outside: rel="noopener noreferrer" target="_blank".
 */
import sanitizeHtml from 'sanitize-html';

const LINK_PROTOCOLS = ['http:', 'https:', 'mailto:'];
const IMAGE_PROTOCOLS = ['http:', 'https:'];

/** The URL, normalized, if it is absolute with one of these protocols; otherwise undefined. */
function safeUrl(value: string | undefined, protocols: string[]): string | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  // Absolute URLs only: a scheme, then (for http/https) "//". Protocol-relative and relative
  // URLs would resolve against wherever the HTML is shown, which is not ours to guess.
  if (!/^[a-z][a-z0-9+.-]*:/i.test(trimmed)) return undefined;
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return undefined;
  }
  if (!protocols.includes(url.protocol)) return undefined;
  return url.href;
}

const OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: ['p', 'br', 'b', 'i', 'em', 'strong', 'u', 'a', 'ul', 'ol', 'li', 'span', 'h3', 'h4', 'small', 'img'],
  allowedAttributes: {
    a: ['href', 'title', 'rel', 'target'],
    img: ['src', 'alt', 'title', 'width', 'height'],
  },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesByTag: { img: ['http', 'https'] },
  allowedSchemesAppliedToAttributes: ['href', 'src'],
  allowProtocolRelative: false,
  allowVulnerableTags: false,
  disallowedTagsMode: 'discard',
  // Disallowed tags whose content is not text for the reader: dropped with everything inside.
  nonTextTags: [
    'script',
    'style',
    'textarea',
    'option',
    'select',
    'xmp',
    'noscript',
    'noembed',
    'noframes',
    'template',
    'title',
    'head',
    'iframe',
    'frameset',
    'object',
    'embed',
    'applet',
    'svg',
    'math',
    'plaintext',
  ],
  transformTags: {
    a: (tagName, attribs) => {
      const href = safeUrl(attribs.href, LINK_PROTOCOLS);
      const out: sanitizeHtml.Attributes = { rel: 'noopener noreferrer', target: '_blank' };
      if (href !== undefined) out.href = href;
      if (attribs.title !== undefined) out.title = attribs.title;
      return { tagName, attribs: out };
    },
    img: (tagName, attribs) => {
      const src = safeUrl(attribs.src, IMAGE_PROTOCOLS);
      const out: sanitizeHtml.Attributes = {};
      if (src !== undefined) out.src = src;
      for (const name of ['alt', 'title']) if (attribs[name] !== undefined) out[name] = attribs[name]!;
      for (const name of ['width', 'height']) if (/^\d{1,4}$/.test(attribs[name] ?? '')) out[name] = attribs[name]!;
      return { tagName, attribs: out };
    },
  },
  // An image whose source did not survive shows nothing: drop it.
  exclusiveFilter: (frame) => frame.tag === 'img' && !frame.attribs.src,
};

/** Sanitized HTML: safe to insert as markup in the panel. */
export function sanitize(html: string): string {
  return sanitizeHtml(html, OPTIONS).trim();
}

/** Whether sanitized HTML shows anything: some text, or an image. */
export function hasContent(clean: string): boolean {
  if (/<img\s/i.test(clean)) return true;
  const text = sanitizeHtml(clean, { allowedTags: [], allowedAttributes: {} })
    .replace(/&nbsp;|&#160;|&#xa0;/gi, ' ')
    .trim();
  return text.length > 0;
}
