import { Observable } from 'rxjs';
import { BackendSrv, BackendSrvRequest, FetchError, FetchResponse } from '@grafana/runtime';

function withParams(url: string, params?: Record<string, unknown>): string {
  if (!params) {
    return url;
  }
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null) {
      continue;
    }
    for (const one of Array.isArray(v) ? v : [v]) {
      parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(one))}`);
    }
  }
  return parts.length === 0 ? url : `${url}${url.includes('?') ? '&' : '?'}${parts.join('&')}`;
}

async function run<T>(options: BackendSrvRequest, signal: AbortSignal): Promise<FetchResponse<T>> {
  const url = withParams(options.url, options.params);
  const headers: Record<string, string> = { Accept: 'application/json', ...(options.headers ?? {}) };
  let body: BodyInit | undefined;
  if (options.data !== undefined) {
    if (typeof options.data === 'string' || options.data instanceof FormData) {
      body = options.data;
    } else {
      body = JSON.stringify(options.data);
      headers['Content-Type'] = 'application/json';
    }
  }
  const res = await fetch(url, { method: options.method ?? 'GET', headers, body, signal, credentials: 'same-origin' });
  const text = await res.text();
  let data: unknown = text;
  if (text !== '' && (res.headers.get('content-type') ?? '').includes('json')) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!res.ok) {
    const err: FetchError = {
      status: res.status,
      statusText: res.statusText,
      data: data as FetchError['data'],
      config: options,
    };
    throw err;
  }
  return {
    data: data as T,
    status: res.status,
    statusText: res.statusText,
    ok: res.ok,
    headers: res.headers,
    redirected: res.redirected,
    type: res.type,
    url: res.url,
    config: options,
  };
}

/** Grafana's BackendSrv over window.fetch: what the app calls, as Grafana serves it. */
export function fetchBackendSrv(): BackendSrv {
  const fetchObs = <T>(options: BackendSrvRequest): Observable<FetchResponse<T>> =>
    new Observable((sub) => {
      const ctl = new AbortController();
      run<T>(options, ctl.signal).then(
        (r) => {
          sub.next(r);
          sub.complete();
        },
        (e) => sub.error(e)
      );
      return () => ctl.abort();
    });
  const req = <T>(options: BackendSrvRequest): Promise<T> =>
    run<T>(options, new AbortController().signal).then((r) => r.data);
  return {
    fetch: fetchObs,
    request: req,
    datasourceRequest: <T>(o: BackendSrvRequest) => run<T>(o, new AbortController().signal),
    get: (url, params, _id, options) => req({ ...options, url, params, method: 'GET' }),
    delete: (url, data, options) => req({ ...options, url, data, method: 'DELETE' }),
    post: (url, data, options) => req({ ...options, url, data, method: 'POST' }),
    patch: (url, data, options) => req({ ...options, url, data, method: 'PATCH' }),
    put: (url, data, options) => req({ ...options, url, data, method: 'PUT' }),
    chunked: () => {
      throw new Error('chunked requests are not served by the harness');
    },
  } as BackendSrv;
}
