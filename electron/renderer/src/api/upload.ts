/**
 * A file upload with progress (a chat file: POST /api/v1/chats/:id/files, the file as the body).
 * fetch cannot report how much of a request body has gone out, so where XMLHttpRequest exists
 * (the browser, Electron's renderer) it is used for its upload progress events; elsewhere (Node)
 * fetch sends it and progress is reported once, at the end.
 */
import { ApiError, networkError } from './errors.js';

/** Bytes sent of the total (the total is the file's size). */
export type UploadProgress = (sent: number, total: number) => void;

export interface UploadInit {
  body: Blob;
  token: string | undefined;
  onProgress?: UploadProgress;
  signal?: AbortSignal;
  fetch: typeof fetch;
  /** The ApiError of an answer that is not ok (transport.ts's answerError); `data` is its parsed JSON, if any. */
  answerError: (res: Response, data: unknown) => ApiError;
}

const parsed = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined; // not JSON: a proxy's page
  }
};

/** POSTs `body` to `url`; answers the parsed JSON of a 2xx, else throws ApiError. */
export function uploadWithProgress<T>(url: string, init: UploadInit): Promise<T> {
  const XHR = (globalThis as { XMLHttpRequest?: typeof XMLHttpRequest }).XMLHttpRequest;
  return XHR ? viaXhr<T>(XHR, url, init) : viaFetch<T>(url, init);
}

function viaXhr<T>(XHR: typeof XMLHttpRequest, url: string, { body, token, onProgress, signal, answerError }: UploadInit): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = new XHR();
    xhr.open('POST', url);
    if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.setRequestHeader('Content-Type', body.type || 'application/octet-stream');
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = (e) => onProgress?.(e.loaded, body.size);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        try {
          onProgress?.(body.size, body.size);
          resolve(JSON.parse(xhr.responseText) as T);
        } catch {
          reject(new ApiError(xhr.status, 'bad_response', 'the upload answer is not JSON'));
        }
      } else {
        const headers = { 'retry-after': xhr.getResponseHeader('retry-after') ?? '' };
        reject(answerError(new Response(null, { status: xhr.status, statusText: xhr.statusText, headers }), parsed(xhr.responseText)));
      }
    };
    xhr.onerror = () => reject(networkError('the upload failed: no answer from the server'));
    xhr.onabort = () => reject(networkError('the upload was cancelled'));
    xhr.ontimeout = () => reject(networkError('the upload timed out'));
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(body);
  });
}

async function viaFetch<T>(url: string, { body, token, onProgress, signal, fetch, answerError }: UploadInit): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', 'content-type': body.type || 'application/octet-stream' };
  if (token) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers, body, signal: signal ?? null });
  } catch (err) {
    throw networkError(err instanceof Error ? err.message : String(err), err);
  }
  const text = await res.text().catch(() => '');
  if (!res.ok) throw answerError(res, parsed(text));
  onProgress?.(body.size, body.size);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(res.status, 'bad_response', 'the upload answer is not JSON');
  }
}
