import { describe, expect, it } from 'vitest';
import { formatSize } from '../../electron/renderer/src/chat/format.js';
import { onlyEmoji, renderMessage } from '../../electron/renderer/src/chat/markdown.js';

describe('message markdown', () => {
  it('renders the subset', () => {
    expect(renderMessage('**bold** _it_ `code`')).toBe('<p><strong>bold</strong> <em>it</em> <code>code</code></p>');
    expect(renderMessage('```\nx < 1\n```')).toBe('<pre><code>x &lt; 1\n</code></pre>');
    expect(renderMessage('> quoted')).toContain('<blockquote>');
    expect(renderMessage('- a\n- b')).toContain('<ul>');
    expect(renderMessage('1. a\n2. b')).toContain('<ol>');
    expect(renderMessage('line one\nline two')).toBe('<p>line one<br>\nline two</p>');
  });

  it('makes links of urls, opening outside', () => {
    const html = renderMessage('see https://example.com/a?b=1&c=2 now');
    expect(html).toContain('<a href="https://example.com/a?b=1&amp;c=2" rel="noopener noreferrer" target="_blank">');
    expect(renderMessage('[site](https://example.org)')).toContain('href="https://example.org"');
  });

  it('never lets HTML or script urls through', () => {
    const payloads = [
      '<img src=x onerror=alert(1)>',
      '<script>alert(1)</script>',
      '"><svg onload=alert(1)>',
      '<a href="javascript:alert(1)">x</a>',
      '<iframe src="https://evil"></iframe>',
    ];
    for (const p of payloads) {
      const html = renderMessage(p);
      expect(html).not.toMatch(/<(img|script|svg|iframe)\b/i);
      expect(html).not.toMatch(/href="(?!https?:)/i);
      expect(html).toContain('&lt;');
    }
    for (const p of ['[x](javascript:alert(1))', '[x](JAVASCRIPT:alert(1))', '[x](data:text/html;base64,PHNjcmlwdD4=)', '[x](vbscript:msgbox)', '<javascript:alert(1)>']) {
      const html = renderMessage(p);
      expect(html).not.toMatch(/<a |<img /i);
    }
  });

  it('has no headings, tables or images', () => {
    expect(renderMessage('# title')).toBe('<p># title</p>');
    expect(renderMessage('![alt](https://example.com/a.png)')).not.toContain('<img');
  });

  it('tells emoji-only text', () => {
    expect(onlyEmoji('👍')).toBe(true);
    expect(onlyEmoji('🎉 👍')).toBe(true);
    expect(onlyEmoji('👨‍👩‍👧')).toBe(true);
    expect(onlyEmoji('ok 👍')).toBe(false);
    expect(onlyEmoji('123')).toBe(false);
    expect(onlyEmoji('👍👍👍👍')).toBe(false);
  });
});

describe('file sizes', () => {
  it('reads as people read them', () => {
    expect(formatSize(820)).toBe('820 B');
    expect(formatSize(14 * 1024 + 100)).toBe('14 KB');
    expect(formatSize(3.2 * 1024 * 1024)).toBe('3.2 MB');
    expect(formatSize(25 * 1024 * 1024)).toBe('25 MB');
  });
});
