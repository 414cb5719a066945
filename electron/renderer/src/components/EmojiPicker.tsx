/**
 * The emoji picker (emoji-mart's web component) in a small popover. emoji-mart puts its styles in
 * a <style> element of its shadow root, which the panel's CSP (style-src 'self') refuses; they go
 * in as a constructed stylesheet instead (adoptedStyleSheets are not inline styles).
 */
import { useEffect, useRef } from 'preact/hooks';
import { language, t } from '../i18n.js';

/** emoji-mart and its data (about half a megabyte) are loaded the first time a picker opens. */
let loading: Promise<{ Picker: new (props: object) => unknown; data: unknown; ja: unknown }> | undefined;
function load() {
  loading ??= Promise.all([import('emoji-mart'), import('@emoji-mart/data'), import('@emoji-mart/data/i18n/ja.json', { with: { type: 'json' } })]).then(([mart, data, ja]) => {
    patchStyles(mart.Picker);
    return { Picker: mart.Picker as unknown as new (props: object) => unknown, data: data.default, ja: ja.default };
  });
  return loading;
}

function patchStyles(Picker: { prototype: unknown }) {
  (Picker.prototype as unknown as { injectStyles: (styles: string) => void }).injectStyles = function (this: HTMLElement, styles: string) {
    if (!styles || !this.shadowRoot) return;
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(styles);
    this.shadowRoot.adoptedStyleSheets = [...this.shadowRoot.adoptedStyleSheets, sheet];
  };
}

export function EmojiPicker({ onPick, onClose, label }: { onPick: (emoji: string) => void; onClose: () => void; label?: string }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let picker: HTMLElement | undefined;
    let alive = true;
    void load().then(({ Picker, data, ja }) => {
      if (!alive) return;
      const dark = matchMedia('(prefers-color-scheme: dark)').matches;
      picker = new Picker({
        data,
        ...(language() === 'ja' ? { i18n: ja } : {}),
        theme: dark ? 'dark' : 'light',
        previewPosition: 'none',
        skinTonePosition: 'search',
        perLine: 8,
        emojiSize: 22,
        autoFocus: true,
        onEmojiSelect: (e: { native?: string }) => e.native && onPick(e.native),
        onClickOutside: () => onClose(),
      }) as HTMLElement;
      host.current?.appendChild(picker);
    }, onClose);
    return () => {
      alive = false;
      picker?.remove();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  return (
    <div
      class="emoji-popover"
      ref={host}
      role="dialog"
      aria-label={label ?? t('emoji')}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          onClose();
        }
      }}
    />
  );
}
