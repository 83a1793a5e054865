import { lastValueFrom } from 'rxjs';
import { FetchError, getBackendSrv } from '@grafana/runtime';

import { RESOURCES_URL } from '../constants';
import {
  ApiErrorBody,
  EventsAnswer,
  FieldsAnswer,
  FrequencyAnswer,
  GroupsAnswer,
  PolicyEventsAnswer,
  Source,
  TraceAnswer,
  ValuesAnswer,
  WhoAnswer,
} from './types';

/** An error answer of the backend, with its JSON body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody
  ) {
    super(body.message);
    this.name = 'ApiError';
  }
}

/** The scope every query resource takes. Times are Unix ms (or now-1h). */
export interface Scope {
  from: string | number;
  to: string | number;
  sources?: Source[];
  filter?: string;
}

type Params = Record<string, string | number | undefined>;

function scopeParams(s: Scope): Params {
  return {
    from: s.from,
    to: s.to,
    sources: s.sources && s.sources.length > 0 ? s.sources.join(',') : undefined,
    filter: s.filter?.trim() ? s.filter : undefined,
  };
}

async function get<T>(path: string, params: Params, signal?: AbortSignal): Promise<T> {
  const clean: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== '') {
      clean[k] = v;
    }
  }
  const obs = getBackendSrv().fetch<T>({
    url: `${RESOURCES_URL}/${path}`,
    method: 'GET',
    params: clean,
    showErrorAlert: false,
    showSuccessAlert: false,
  });
  try {
    const p = lastValueFrom(obs);
    if (signal) {
      const aborted = new Promise<never>((_, reject) =>
        signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')), { once: true })
      );
      return (await Promise.race([p, aborted])).data;
    }
    return (await p).data;
  } catch (e) {
    throw toApiError(e);
  }
}

/** Turns what backendSrv throws into an ApiError. */
export function toApiError(e: unknown): unknown {
  if (e instanceof ApiError || (e instanceof DOMException && e.name === 'AbortError')) {
    return e;
  }
  const fe = e as Partial<FetchError<ApiErrorBody>>;
  if (fe && typeof fe.status === 'number') {
    const data = fe.data;
    const body: ApiErrorBody =
      data && typeof data === 'object' && typeof data.message === 'string'
        ? data
        : { kind: 'internal', message: typeof data === 'string' && data ? data : fe.statusText || `HTTP ${fe.status}` };
    return new ApiError(fe.status, body);
  }
  return e;
}

export function isAbort(e: unknown): boolean {
  return e instanceof DOMException && e.name === 'AbortError';
}

export const api = {
  events: (s: Scope, opts: { limit?: number; cursor?: string } = {}, signal?: AbortSignal) =>
    get<EventsAnswer>('events', { ...scopeParams(s), limit: opts.limit, cursor: opts.cursor }, signal),
  frequency: (s: Scope, signal?: AbortSignal) => get<FrequencyAnswer>('frequency', scopeParams(s), signal),
  groups: (s: Scope, by: string[], signal?: AbortSignal) =>
    get<GroupsAnswer>('groups', { ...scopeParams(s), by: by.join(',') }, signal),
  fields: () => get<FieldsAnswer>('fields', {}),
  values: (field: string, s: Scope, opts: { prefix?: string; limit?: number } = {}, signal?: AbortSignal) =>
    get<ValuesAnswer>(`values/${encodeURIComponent(field)}`, { ...scopeParams(s), ...opts }, signal),
  trace: (id: string, range: { from?: string | number; to?: string | number }, signal?: AbortSignal) =>
    get<TraceAnswer>(`trace/${encodeURIComponent(id)}`, { from: range.from, to: range.to }, signal),
  who: (session: string, range: { from: string | number; to: string | number }, signal?: AbortSignal) =>
    get<WhoAnswer>('who', { session, from: range.from, to: range.to }, signal),
  policyEvents: (range: { from: string | number; to: string | number }, opts: { limit?: number; cursor?: string } = {}, signal?: AbortSignal) =>
    get<PolicyEventsAnswer>('policy-events', { ...range, ...opts }, signal),
};
