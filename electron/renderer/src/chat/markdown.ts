/**
 * A message's text as HTML: a safe markdown subset (bold, italic, strikethrough, inline code, code
 * blocks, quotes, lists) and links. markdown-it runs with `html: false`, so every `<`, `>`, `&` and
 * quote of the text is escaped and no HTML from the text reaches the page; only the rules below
 * are on (no images, headings, tables, reference definitions), and a link is kept only for
 * http(s) and mailto (markdown-it's own check lets through e.g. data:image/png). Links carry
 * rel="noopener noreferrer"; the view takes over their clicks (platform.ts interceptLinks).
 */
import MarkdownIt from 'markdown-it';

const SAFE_LINK = /^(https?:|mailto:)/i;

const md = new MarkdownIt('zero', { html: false, linkify: true, breaks: true, typographer: false });
md.enable(['paragraph', 'newline', 'text', 'escape', 'backticks', 'emphasis', 'strikethrough', 'link', 'autolink', 'linkify', 'entity', 'code', 'fence', 'blockquote', 'list']);
md.validateLink = (url: string) => SAFE_LINK.test(url.trim());

const defaultLinkOpen = md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  const token = tokens[idx]!;
  token.attrSet('rel', 'noopener noreferrer');
  token.attrSet('target', '_blank');
  return defaultLinkOpen(tokens, idx, options, env, self);
};

/** The text as safe HTML (to set with dangerouslySetInnerHTML inside an element whose link clicks are intercepted). */
export function renderMessage(text: string): string {
  return md.render(text).trim();
}

/** Text made only of up to three emoji (and spaces): shown larger, as Slack does. */
export function onlyEmoji(text: string): boolean {
  const t = text.trim();
  if (!t || t.length > 24) return false;
  return /^(?:\p{Extended_Pictographic}|\p{Emoji_Component}|\u200d|\ufe0f|\s)+$/u.test(t) && !/^[\d#*\s]+$/.test(t) && [...t.matchAll(/\p{Extended_Pictographic}/gu)].length <= 3;
}
