// The JSON of the app backend's resources (grafana-app/pkg/api), in one place:
// when the backend's answers change, this file and client.ts change, nothing else.

/** A data source: what kind of activity a record is. */
export type Source = 'cmd' | 'net' | 'kube_exec';

export const ALL_SOURCES: Source[] = ['cmd', 'net', 'kube_exec'];

/**
 * One activity: a flat object of its fields as text, exactly as a filter term
 * compares them; `id` identifies the Loki entry, `time` is Unix ns as a decimal string.
 */
export type ActivityRecord = { id: string; time: string; source: Source } & Record<string, string>;

/** GET /events */
export interface EventsAnswer {
  records: ActivityRecord[];
  /** Cursor of the next page; absent on the last one. */
  next?: string;
}

/** GET /frequency */
export interface FrequencyAnswer {
  /** Unix ms. */
  from: number;
  to: number;
  /** Bucket width, ms. */
  step: number;
  /** Bucket starts, Unix ms. */
  times: number[];
  series: FrequencySeries[];
  total: number;
}

export interface FrequencySeries {
  source: Source;
  title: string;
  counts: number[];
  total: number;
}

/** GET /groups */
export interface GroupsAnswer {
  by: string[];
  total: number;
  groups: Group[];
}

export interface Group {
  field: string;
  /** "" for records without the field. */
  value: string;
  count: number;
  /** The term of this node alone: pod="web-1". */
  term: string;
  /** The terms of the path down to this node. */
  filter: string;
  groups?: Group[];
}

/** GET /fields */
export interface FieldsAnswer {
  fields: FieldInfo[];
  sources: Array<{ name: Source; title: string }>;
  groupings: Array<{ name: string; by: string[] }>;
}

export interface FieldInfo {
  name: string;
  type: string;
  role: string;
  description: string;
  sources: Source[];
  filterable: boolean;
}

/** GET /values/{field} */
export interface ValuesAnswer {
  field: string;
  values: Array<{ value: string; count: number; term: string }>;
}

/** What is known of the kube exec behind a session. */
export type TraceStatus = 'known' | 'unknown' | 'ambiguous' | 'probe' | 'denied' | 'no process';

/** GET /trace/{session or audit id} */
export interface TraceAnswer {
  id: string;
  session: string;
  status: TraceStatus;
  exact?: boolean;
  kube_exec: ActivityRecord | null;
  ambiguous?: ActivityRecord[];
  candidates?: string[];
  user?: string;
  /** Unix ns as decimal strings. */
  start?: string;
  end?: string;
  processes: TraceProcess[];
  unattributed?: ActivityRecord[];
  commands: number;
  connections: number;
  truncated?: boolean;
  audit?: string;
  link?: string;
}

export interface TraceProcess {
  record: ActivityRecord;
  entry?: boolean;
  orphan?: boolean;
  exec?: boolean;
  inferred?: boolean;
  connections?: ActivityRecord[];
  children?: TraceProcess[];
}

/** GET /who?session= */
export interface WhoAnswer {
  session: string;
  status: TraceStatus;
  exact?: boolean;
  kube_exec: ActivityRecord | null;
  ambiguous?: ActivityRecord[];
  user?: string;
  trace: string;
}

/** GET /policy-events */
export interface PolicyEventsAnswer {
  events: PolicyEvent[];
  next?: string;
}

export interface PolicyEvent {
  id: string;
  /** Unix ns as a decimal string. */
  time: string;
  rule: string;
  priority: string;
  source: string;
  hostname?: string;
  tags?: string[];
  output: string;
  format: string;
  uuid?: string;
  fields?: Record<string, string>;
  namespace?: string;
  pod?: string;
  container_id?: string;
  container_name?: string;
  k8s_user?: string;
  /** The audit view of the alert's pod or container, ±5 minutes. */
  activity?: { filter: string; from: number; to: number; path: string; link: string };
  /** The trace of a kube exec alert that carries its audit id. */
  trace?: string;
}

/** Every error answer: {"kind","message",...}. */
export interface ApiErrorBody {
  kind: 'filter' | 'param' | 'forbidden' | 'not_found' | 'loki' | 'timeout' | 'settings' | 'internal' | string;
  message: string;
  param?: string;
  /** Byte offset (0-based) of a filter error. */
  offset?: number;
  /** Character column (1-based) of a filter error. */
  column?: number;
  suggestion?: string;
  loki_status?: number;
}

/** The app's settings (plugin jsonData), as pkg/settings reads them. */
export interface AppJsonData {
  lokiUrl?: string;
  lokiTenant?: string;
  lokiAuth?: 'none' | 'basic' | 'bearer';
  lokiUser?: string;
  grafanaUrl?: string;
  policySelector?: string;
  minRole?: 'Viewer' | 'Editor' | 'Admin';
  queryTimeout?: string;
}

/** Secrets (plugin secureJsonData): written, never read back. */
export interface AppSecureJsonData {
  lokiPassword?: string;
  lokiBearerToken?: string;
}
