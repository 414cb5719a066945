/**
 * The page of the small built-in prompt windows (proxy credentials; the server address on a
 * first start without configuration). Static HTML with a CSP that allows no script at all: the
 * prompt preload wires the form. Every text put into it is escaped (a proxy's realm is not ours).
 */
import { z } from 'zod';

export interface PromptField {
  name: string;
  label: string;
  type: 'text' | 'password' | 'url';
  value?: string;
}

export interface PromptSpec {
  title: string;
  message: string;
  fields: PromptField[];
  submit: string;
  cancel: string;
  lang?: string;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export const PROMPT_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; base-uri 'none'";

export function promptHtml(spec: PromptSpec): string {
  const fields = spec.fields
    .map(
      (f, i) =>
        `<label for="f${i}">${escapeHtml(f.label)}</label>` +
        `<input id="f${i}" name="${escapeHtml(f.name)}" type="${f.type}" value="${escapeHtml(f.value ?? '')}"` +
        `${f.type === 'password' ? ' autocomplete="current-password"' : ' autocomplete="off"'}${i === 0 ? ' autofocus' : ''} required>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="${escapeHtml(spec.lang ?? 'en')}"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${PROMPT_CSP}">
<title>${escapeHtml(spec.title)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:16px;color:#222;background:#f6f6f6}
p{margin:0 0 12px}label{display:block;margin:8px 0 4px}input{width:100%;box-sizing:border-box;padding:6px;font:inherit}
.buttons{display:flex;justify-content:flex-end;gap:8px;margin-top:16px}button{font:inherit;padding:6px 14px}
@media (prefers-color-scheme:dark){body{background:#222;color:#eee}}
</style></head>
<body><form id="prompt"><p>${escapeHtml(spec.message)}</p>
${fields}
<div class="buttons"><button type="button" id="cancel">${escapeHtml(spec.cancel)}</button><button type="submit">${escapeHtml(spec.submit)}</button></div>
</form></body></html>`;
}

export function promptDataUrl(spec: PromptSpec): string {
  return `data:text/html;charset=utf-8,${encodeURIComponent(promptHtml(spec))}`;
}

/** What the prompt preload may send back: field values, or null for cancel. */
export const PromptResult = z.union([z.null(), z.record(z.string().max(100), z.string().max(2048))]);
export type PromptResult = z.infer<typeof PromptResult>;
