import { contractOf } from './contract';

export interface HttpResponse<T = any> {
  status: number;
  headers: Headers;
  /** Parsed JSON when the response is JSON, else the text (undefined when empty). */
  body: T;
  text: string;
}

export interface RequestOptions {
  token?: string;
  /** Authorization scheme for `token`. */
  scheme?: 'Bearer' | 'Token';
  headers?: Record<string, string>;
  /** A raw body sent as is (for malformed-JSON tests; bytes for invalid UTF-8). */
  raw?: string | Uint8Array;
  /** Give up (reject) after this long instead of waiting for an answer forever. */
  timeoutMs?: number;
  /**
   * The only opt-out of the contract check (see below): for a request that is not an API operation
   * (`/docs`, `/docs-json`, a path that exists on no surface, asked on purpose). It fails when the
   * request is a documented operation after all (its path matches and its path parameters are valid).
   */
  notAnOperation?: true;
}

/**
 * A tiny client over real HTTP (Node's fetch), so every e2e test crosses the network stack.
 *
 * Every answer is checked against the app's own OpenAPI document (`/docs-json`, fetched once per
 * base URL; test/support/contract.ts): status, media type, required headers and body. An answer
 * the document does not describe throws here, so it fails the test that received it, with one line
 * (`PATCH /me/password → 413: status not documented …`). A method a documented path lacks must be
 * a 405 with `Allow`. Requests the tests send on purpose to be invalid are checked like any other:
 * their 4xx must be documented.
 */
export class HttpClient {
  constructor(readonly baseUrl: string) {}

  get<T = any>(path: string, options?: RequestOptions) {
    return this.request<T>('GET', path, undefined, options);
  }
  post<T = any>(path: string, body?: unknown, options?: RequestOptions) {
    return this.request<T>('POST', path, body, options);
  }
  put<T = any>(path: string, body?: unknown, options?: RequestOptions) {
    return this.request<T>('PUT', path, body, options);
  }
  patch<T = any>(path: string, body?: unknown, options?: RequestOptions) {
    return this.request<T>('PATCH', path, body, options);
  }
  delete<T = any>(path: string, body?: unknown, options?: RequestOptions) {
    return this.request<T>('DELETE', path, body, options);
  }

  async request<T>(method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<HttpResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `${options.scheme ?? 'Bearer'} ${options.token}`;
    let payload: string | Uint8Array | undefined = options.raw;
    if (payload === undefined && body !== undefined) payload = JSON.stringify(body);
    if (payload !== undefined) headers['content-type'] ??= 'application/json';
    const signal = options.timeoutMs ? AbortSignal.timeout(options.timeoutMs) : undefined;
    const response = await fetch(this.baseUrl + path, { method, headers, body: payload, signal });
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    let parsed: unknown = text || undefined;
    if (text && type.includes('json')) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text; // left for the test to report
      }
    }
    const contract = await contractOf(this.baseUrl);
    if (options.notAnOperation) {
      if (contract.isOperation(method, path.split(/[?#]/)[0]))
        throw new Error(`${method} ${path}: marked notAnOperation, but the document has it as ${method} ${contract.templateOf(path.split(/[?#]/)[0])}`);
    } else {
      const violation = contract.check({ method, path }, { status: response.status, headers: response.headers, text });
      if (violation) throw new Error(`Answer not described by the OpenAPI document: ${violation}`);
    }
    return { status: response.status, headers: response.headers, body: parsed as T, text };
  }
}
