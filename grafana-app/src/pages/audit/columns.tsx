import React from 'react';

import { ActivityRecord, Source } from '../../api/types';
import { formatNs } from '../../state/time';

export interface Column {
  id: string;
  header: string;
  /** CSS grid track. */
  width: string;
  render: (r: ActivityRecord) => React.ReactNode;
  /** Plain text, for the title attribute. */
  text?: (r: ActivityRecord) => string;
}

const SOURCE_SHORT: Record<string, string> = { cmd: 'command', net: 'network', kube_exec: 'kube exec' };

export function scopeText(r: ActivityRecord): string {
  if (r.namespace || r.pod) {
    return [r.namespace, r.pod || r.workload, r.container].filter(Boolean).join(' / ');
  }
  return [r.host, r.container || (r.container_id ? r.container_id.slice(0, 12) : '')].filter(Boolean).join(' / ');
}

export function endpoint(ip?: string, port?: string): string {
  if (!ip) {
    return '';
  }
  return ip.includes(':') ? `[${ip}]:${port ?? ''}` : `${ip}:${port ?? ''}`;
}

/** One line that says what happened. */
export function summary(r: ActivityRecord): string {
  switch (r.source) {
    case 'cmd':
      return r.cmdline || r.comm || '';
    case 'net': {
      const arrow = r.direction === 'in' ? '←' : '→';
      return `${r.comm ?? ''} ${r.l4proto ?? ''} ${endpoint(r.client_ip, r.client_port)} ${arrow} ${endpoint(r.server_ip, r.server_port)}`.trim();
    }
    case 'kube_exec':
      return `${r.k8s_user ?? '?'} exec ${r.command ? `"${r.command}"` : ''} in ${r.name || r.pod || '?'}${r.container ? ` (${r.container})` : ''}`;
  }
  return '';
}

export function who(r: ActivityRecord): string {
  if (r.source === 'kube_exec') {
    return r.k8s_user ?? '';
  }
  const unix = r.user || (r.uid !== undefined ? `uid ${r.uid}` : '');
  return r.k8s_user ? `${r.k8s_user}${unix ? ` (${unix})` : ''}` : unix;
}

const time: Column = { id: 'time', header: 'Time', width: '190px', render: (r) => formatNs(r.time), text: (r) => formatNs(r.time) };
const source: Column = { id: 'source', header: 'Source', width: '90px', render: (r) => SOURCE_SHORT[r.source] ?? r.source };
const scope: Column = { id: 'scope', header: 'Scope', width: 'minmax(160px, 1.2fr)', render: scopeText, text: scopeText };
const user: Column = { id: 'user', header: 'User', width: 'minmax(90px, 0.5fr)', render: who, text: who };

/** The columns of the table: per source when one is selected, a summary otherwise. */
export function columnsFor(sources: Source[]): Column[] {
  if (sources.length === 1) {
    switch (sources[0]) {
      case 'cmd':
        return [
          time,
          scope,
          { id: 'cmdline', header: 'Command', width: 'minmax(200px, 2fr)', render: (r) => r.cmdline || r.comm, text: (r) => r.cmdline ?? '' },
          { id: 'cwd', header: 'Directory', width: 'minmax(80px, 0.6fr)', render: (r) => r.cwd, text: (r) => r.cwd ?? '' },
          user,
          { id: 'pid', header: 'PID', width: '70px', render: (r) => r.pid },
        ];
      case 'net':
        return [
          time,
          scope,
          { id: 'comm', header: 'Process', width: 'minmax(90px, 0.6fr)', render: (r) => `${r.comm ?? ''}${r.pid ? ` (${r.pid})` : ''}` },
          { id: 'direction', header: 'Dir', width: '50px', render: (r) => r.direction },
          { id: 'l4proto', header: 'Proto', width: '60px', render: (r) => r.l4proto },
          { id: 'client', header: 'Client', width: 'minmax(120px, 1fr)', render: (r) => endpoint(r.client_ip, r.client_port) },
          { id: 'server', header: 'Server', width: 'minmax(120px, 1fr)', render: (r) => endpoint(r.server_ip, r.server_port) },
        ];
      case 'kube_exec':
        return [
          time,
          scope,
          { id: 'k8s_user', header: 'Kubernetes user', width: 'minmax(100px, 0.8fr)', render: (r) => r.k8s_user },
          { id: 'command', header: 'Command', width: 'minmax(120px, 1.2fr)', render: (r) => r.command, text: (r) => r.command ?? '' },
          { id: 'source_addresses', header: 'Source addresses', width: 'minmax(110px, 0.8fr)', render: (r) => r.source_addresses },
          { id: 'response_code', header: 'Code', width: '60px', render: (r) => r.response_code },
        ];
    }
  }
  return [time, source, scope, { id: 'summary', header: 'Activity', width: 'minmax(220px, 2.5fr)', render: summary, text: summary }, user];
}
