import { API_PREFIX, LookoutError } from '@lookout/contracts';
import { HttpError } from './api.js';
import { credential } from './auth.js';

export interface UploadProgress {
  loaded: number;
  /** Undefined when the browser cannot tell the body's size. */
  total?: number;
}

export interface UploadOptions {
  method?: string;
  onProgress?: (p: UploadProgress) => void;
  signal?: AbortSignal;
  /** Request headers besides the credential (e.g. a raw body's content type). */
  headers?: Record<string, string>;
}

/**
 * Sends a multipart form to the REST API and reports upload progress. XMLHttpRequest,
 * because fetch() has no upload progress events; errors are the same HttpError as api()
 * (a cancelled upload rejects with an AbortError, as fetch() does).
 */
export function uploadForm<T>(path: string, form: FormData, opts: UploadOptions = {}): Promise<T> {
  return uploadBody<T>(path, form, opts);
}

/** `uploadForm` for any body: a form, or a file sent as it is (a recording: `opts.headers` names its type). */
export function uploadBody<T>(path: string, body: XMLHttpRequestBodyInit, opts: UploadOptions = {}): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(opts.method ?? 'POST', `${API_PREFIX}${path}`);
    const auth = credential();
    if (auth) xhr.setRequestHeader('authorization', `Bearer ${auth}`);
    for (const [k, v] of Object.entries(opts.headers ?? {})) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => opts.onProgress?.({ loaded: e.loaded, ...(e.lengthComputable ? { total: e.total } : {}) });
    xhr.onload = () => {
      let data: unknown;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : undefined;
      } catch {
        data = undefined;
      }
      if (xhr.status >= 200 && xhr.status < 300) return resolve(data as T);
      reject(HttpError.fromResponse(xhr.status, xhr.statusText, data));
    };
    xhr.onerror = () => reject(new HttpError(0, 'unavailable', 'The upload failed: the server could not be reached'));
    xhr.onabort = () => reject(new DOMException('The upload was cancelled', 'AbortError'));
    opts.signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(body);
  });
}

/** One line for an error shown to a person: the API's message, and which field it is about. */
export function errorText(err: unknown): string {
  if (err instanceof HttpError && err.status === 401) return `${err.message}. Sign in with the admin key at the top of the page, then try again.`;
  if (err instanceof LookoutError) return err.field ? `${err.message} (field: ${err.field})` : err.message;
  return err instanceof Error ? err.message : String(err);
}

/** The field an API error is about, if any (for aria-invalid on the matching input). */
export function errorField(err: unknown): string | undefined {
  return err instanceof LookoutError ? err.field : undefined;
}

/** Bytes as a short human size. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
