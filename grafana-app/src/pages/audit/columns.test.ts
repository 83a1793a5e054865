import { expect, test } from 'vitest';

import { ActivityRecord } from '../../api/types';
import { traceId } from './ActivityTable';
import { columnsFor, scopeText, summary, who } from './columns';

const rec = (r: Record<string, string>) => ({ id: 'x', time: '1795687500500000000', ...r }) as ActivityRecord;

test('one line per source', () => {
  expect(summary(rec({ source: 'cmd', cmdline: 'apt-get install -y apache2-utils', comm: 'apt-get' }))).toBe('apt-get install -y apache2-utils');
  expect(summary(rec({ source: 'net', comm: 'ab', l4proto: 'tcp', direction: 'out', client_ip: '10.0.0.5', client_port: '41000', server_ip: '10.0.1.5', server_port: '80' }))).toBe(
    'ab tcp 10.0.0.5:41000 → 10.0.1.5:80'
  );
  expect(summary(rec({ source: 'net', comm: 'x', l4proto: 'udp', direction: 'in', client_ip: '::1', client_port: '5', server_ip: 'fe80::1', server_port: '53' }))).toBe(
    'x udp [::1]:5 ← [fe80::1]:53'
  );
  expect(summary(rec({ source: 'kube_exec', k8s_user: 'johndoe', command: 'bash', name: 'web-1', container: 'php' }))).toBe('johndoe exec "bash" in web-1 (php)');
});

test('scope and user', () => {
  expect(scopeText(rec({ source: 'cmd', namespace: 'shop', pod: 'web-1', container: 'php' }))).toBe('shop / web-1 / php');
  expect(scopeText(rec({ source: 'cmd', host: 'node-a', container_id: 'a1a1a1a1a1a1a1a1' }))).toBe('node-a / a1a1a1a1a1a1');
  expect(who(rec({ source: 'cmd', user: 'root', k8s_user: 'johndoe' }))).toBe('johndoe (root)');
  expect(who(rec({ source: 'cmd', uid: '33' }))).toBe('uid 33');
});

test('the Trace button: kube exec rows and rows in a session', () => {
  expect(traceId(rec({ source: 'kube_exec', audit_id: 'a-b' }))).toBe('a-b');
  expect(traceId(rec({ source: 'kube_exec', audit_id: 'a-b', session: 's' }))).toBe('s');
  expect(traceId(rec({ source: 'cmd', session: 's' }))).toBe('s');
  expect(traceId(rec({ source: 'cmd' }))).toBeUndefined();
});

test('columns per source', () => {
  expect(columnsFor(['cmd']).map((c) => c.id)).toEqual(['time', 'scope', 'cmdline', 'cwd', 'user', 'pid']);
  expect(columnsFor(['net']).map((c) => c.id)).toContain('server');
  expect(columnsFor(['kube_exec']).map((c) => c.id)).toContain('source_addresses');
  expect(columnsFor(['cmd', 'net']).map((c) => c.id)).toEqual(['time', 'source', 'scope', 'summary', 'user']);
});
