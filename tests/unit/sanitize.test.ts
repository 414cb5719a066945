import { describe, expect, it } from 'vitest';
import { hasContent, sanitize } from '../../server/src/links/sanitize.js';

const ALLOWED: Record<string, string[]> = {
  p: [],
  br: [],
  b: [],
  i: [],
  em: [],
  strong: [],
  u: [],
  a: ['href', 'title', 'rel', 'target'],
  ul: [],
  ol: [],
  li: [],
  span: [],
  h3: [],
  h4: [],
  small: [],
  img: ['src', 'alt', 'title', 'width', 'height'],
};

const decode = (v: string) =>
  v.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#(\d+);/g, (_, d) => String.fromCharCode(Number(d))).replace(/&amp;/g, '&');

/**
 * Asserts that sanitized HTML is inert, structurally: every tag is on the allow-list with only its
 * allowed attributes, every URL is absolute http/https (or mailto for links), every link opens
 * outside, and no "<" is left outside a tag (text is escaped).
 */
export function expectInert(html: string, label = html) {
  const what = `${label} -> ${html}`;
  expect(html, what).not.toMatch(/<\s*\/?\s*(script|style|iframe|svg|math|form|input|button|object|embed|meta|link|base|textarea|frame|template)\b/i);
  let outside = html;
  for (const m of html.matchAll(/<(\/?)([a-zA-Z0-9]+)((?:\s+[^\s=>/]+(?:="[^"]*")?)*)\s*\/?>/g)) {
    outside = outside.replace(m[0], '');
    const [, closing, tag, attrText] = m;
    expect(Object.keys(ALLOWED), what).toContain(tag);
    if (closing) {
      expect(attrText, what).toBe('');
      continue;
    }
    const attrs = new Map([...attrText!.matchAll(/\s+([^\s=>/]+)(?:="([^"]*)")?/g)].map((a) => [a[1]!, decode(a[2] ?? '')]));
    for (const [name, value] of attrs) {
      expect(ALLOWED[tag!], `${what}: attribute ${name} on ${tag}`).toContain(name);
      expect(name, what).not.toMatch(/^on/i);
      expect(value, what).not.toMatch(/(java|vb)script\s*:|^\s*data:/i);
    }
    if (tag === 'a') {
      expect(attrs.get('rel'), what).toBe('noopener noreferrer');
      expect(attrs.get('target'), what).toBe('_blank');
      if (attrs.has('href')) expect(attrs.get('href'), what).toMatch(/^(https?:\/\/|mailto:)/);
    }
    if (tag === 'img') expect(attrs.get('src'), what).toMatch(/^https?:\/\//);
  }
  expect(outside, `${what}: a "<" outside a tag`).not.toContain('<');
  // And plainly: no handler, style or class attribute in any tag (quoted values, which are text, aside)
  for (const tag of html.match(/<[^>]*>/g) ?? []) {
    const names = tag.replace(/="[^"]*"/g, '');
    expect(names, what).not.toMatch(/\son[a-z]+/i);
    expect(names, what).not.toMatch(/javascript|vbscript|data:|expression|style|class|srcdoc|xlink/i);
    for (const url of tag.matchAll(/\s(?:href|src)="([^"]*)"/g)) expect(decode(url[1]!), what).toMatch(/^(https?:\/\/|mailto:)/);
  }
}

const PAYLOADS: string[] = [
  // scripts
  '<script>alert(1)</script>',
  '<SCRIPT SRC=https://evil.example/x.js></SCRIPT>',
  '<script\n>alert(1)</script\n>',
  '<scr<script>ipt>alert(1)</scr</script>ipt>',
  '<<script>script>alert(1)<</script>/script>',
  '<script>/*</script><img src=x onerror=alert(1)>*/</script>',
  '<p>hi<script>document.cookie</script></p>',
  // event handlers
  '<img src=x onerror=alert(1)>',
  '<img src="https://ok.example/a.png" onerror="alert(1)" onload=alert(2)>',
  '<IMG SRC=x ONERROR=alert(1)>',
  '<img src=x:alert(alt) onerror=eval(src) alt=0>',
  '<p onclick="alert(1)" onmouseover=alert(2)>click</p>',
  '<a href="https://ok.example" onfocus=alert(1) autofocus>x</a>',
  '<b/onclick=alert(1)>x</b>',
  '<span style="x" onmouseover\t=\talert(1)>x</span>',
  '<body onload=alert(1)>',
  '<details open ontoggle=alert(1)>',
  '<video><source onerror="alert(1)"></video>',
  '<audio src=x onerror=alert(1)>',
  '<marquee onstart=alert(1)>x</marquee>',
  // javascript:, data:, vbscript: URLs, with obfuscations
  '<a href="javascript:alert(1)">x</a>',
  '<a href="JaVaScRiPt:alert(1)">x</a>',
  '<a href=" javascript:alert(1)">x</a>',
  '<a href="\tjavascript:alert(1)">x</a>',
  '<a href="java\nscript:alert(1)">x</a>',
  '<a href="java&#x09;script:alert(1)">x</a>',
  '<a href="jav&#x0A;ascript:alert(1)">x</a>',
  '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
  '<a href="&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1)">x</a>',
  '<a href="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058alert(1)">x</a>',
  '<a href="javascript&colon;alert(1)">x</a>',
  '<a href="  JAVASCRIPT:alert(1)  ">x</a>',
  '<a href="\u0001javascript:alert(1)">x</a>',
  '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
  '<a href="DATA:text/html,<script>alert(1)</script>">x</a>',
  '<a href="vbscript:msgbox(1)">x</a>',
  '<a href="VBScript:msgbox(1)">x</a>',
  '<a href="//evil.example/">protocol relative</a>',
  '<a href="/relative">relative</a>',
  '<img src="javascript:alert(1)">',
  '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
  '<img src="  jav&#x09;ascript:alert(1)">',
  '<img srcset="javascript:alert(1)">',
  '<a href="https://ok.example" xlink:href="javascript:alert(1)">x</a>',
  '<a href="mailto:x@example.com" formaction="javascript:alert(1)">x</a>',
  // svg and friends
  '<svg onload=alert(1)>',
  '<svg><script>alert(1)</script></svg>',
  '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
  '<svg><animate onbegin=alert(1) attributeName=x dur=1s>',
  '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
  // style and expression
  '<div style="width: expression(alert(1))">x</div>',
  '<p style="background:url(javascript:alert(1))">x</p>',
  '<style>@import "https://evil.example/x.css"; body{background:url("javascript:alert(1)")}</style>',
  '<span class="admin" id="x" style="color:red">x</span>',
  '<link rel="stylesheet" href="https://evil.example/x.css">',
  // frames, objects, forms, meta
  '<iframe src="javascript:alert(1)"></iframe>',
  '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
  '<object data="javascript:alert(1)"></object>',
  '<embed src="javascript:alert(1)">',
  '<form action="javascript:alert(1)"><input type="submit"><button formaction="javascript:alert(1)">go</button></form>',
  '<textarea><script>alert(1)</script></textarea>',
  '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
  '<base href="javascript:alert(1)//">',
  // nesting and parser tricks
  '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
  '<xmp><script>alert(1)</script></xmp>',
  '<template><script>alert(1)</script></template>',
  '<!--<img src=x onerror=alert(1)>-->',
  '<!--[if gte IE 4]><script>alert(1)</script><![endif]-->',
  '<![CDATA[<script>alert(1)</script>]]>',
  '<p title="&quot;><script>alert(1)</script>">x</p>',
  '<a href="https://ok.example/" title="x&quot; onmouseover=&quot;alert(1)">x</a>',
  '<img src="https://ok.example/a.png" alt="x" title="&quot;/><script>alert(1)</script>">',
  '<p><a href="https://ok.example/"><img src="https://ok.example/a.png" onerror=alert(1)></a></p>',
  '<div><p><span><b><i><u><strong><em><small><script>alert(1)</script></small></em></strong></u></i></b></span></p></div>',
  '"><img src=x onerror=alert(1)>',
  "'><svg/onload=alert(1)>",
  '<img """><script>alert(1)</script>">',
  '<a href="https://ok.example/"\n onclick\n=\nalert(1)>x</a>',
];

describe('sanitize', () => {
  it.each(PAYLOADS.map((p) => [p]))('leaves nothing executable of %s', (payload) => {
    const out = sanitize(payload);
    expectInert(out, payload);
    expect(out).not.toMatch(/<script/i);
    expect(out).not.toMatch(/alert\(1\)<\/script/i);
  });

  it('drops scripts and styles with their content, but keeps the text of other discarded tags', () => {
    expect(sanitize('<script>alert(1)</script>ok')).toBe('ok');
    expect(sanitize('<style>p{color:red}</style><p>ok</p>')).toBe('<p>ok</p>');
    expect(sanitize('<svg><text>inside</text></svg>after')).toBe('after');
    expect(sanitize('<div>kept <section>text</section></div>')).toBe('kept text');
    expect(sanitize('<form><button>go</button></form>')).toBe('go');
    expect(sanitize('<iframe src="https://evil.example/">fallback</iframe>x')).toBe('x');
  });

  it('discards disallowed tags rather than escaping them into text', () => {
    const out = sanitize('<div><table><tr><td>cell</td></tr></table></div>');
    expect(out).toBe('cell');
    expect(out).not.toContain('&lt;');
  });

  it('keeps safe markup as it is', () => {
    const safe =
      '<h3>Title</h3><h4>Sub</h4><p>Some <b>bold</b>, <i>italic</i>, <em>em</em>, <strong>strong</strong>, <u>under</u>, <small>small</small> and <span>span</span>.<br />Next</p>' +
      '<ul><li>one</li></ul><ol><li>two</li></ol>';
    expect(sanitize(safe)).toBe(safe);
  });

  it('keeps http, https and mailto links, opening outside, and http(s) images', () => {
    expect(sanitize('<a href="https://intranet.example/wiki?a=1&b=2" title="Wiki">Wiki</a>')).toBe(
      '<a rel="noopener noreferrer" target="_blank" href="https://intranet.example/wiki?a=1&amp;b=2" title="Wiki">Wiki</a>',
    );
    expect(sanitize('<a href="http://example.com/">x</a>')).toBe('<a rel="noopener noreferrer" target="_blank" href="http://example.com/">x</a>');
    expect(sanitize('<a href="mailto:help@example.com">mail</a>')).toBe(
      '<a rel="noopener noreferrer" target="_blank" href="mailto:help@example.com">mail</a>',
    );
    expect(sanitize('<a href="https://ok.example/" rel="opener" target="_self">x</a>')).toBe(
      '<a rel="noopener noreferrer" target="_blank" href="https://ok.example/">x</a>',
    );
    expect(sanitize('<img src="https://example.com/logo.png" alt="Logo" width="32" height="big">')).toBe(
      '<img src="https://example.com/logo.png" alt="Logo" width="32" />',
    );
  });

  it('keeps the text of a link whose URL is refused, and drops an image without a usable source', () => {
    expect(sanitize('<a href="javascript:alert(1)">click</a>')).toBe('<a rel="noopener noreferrer" target="_blank">click</a>');
    expect(sanitize('<p>a<img src="javascript:alert(1)">b</p>')).toBe('<p>ab</p>');
    expect(sanitize('<img src="/logo.png">')).toBe('');
  });

  it('escapes text, so text that looks like markup stays text', () => {
    expect(sanitize('<p>1 < 2 & 3 > 2</p>')).toBe('<p>1 &lt; 2 &amp; 3 &gt; 2</p>');
    expect(sanitize('&lt;script&gt;alert(1)&lt;/script&gt;')).toBe('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('tells whether anything is left to show', () => {
    expect(hasContent(sanitize('<script>alert(1)</script>'))).toBe(false);
    expect(hasContent(sanitize('<p> &nbsp; </p><br>'))).toBe(false);
    expect(hasContent(sanitize('<img src=x onerror=alert(1)>'))).toBe(false);
    expect(hasContent(sanitize('<p>hi</p>'))).toBe(true);
    expect(hasContent(sanitize('<img src="https://example.com/a.png">'))).toBe(true);
  });
});
