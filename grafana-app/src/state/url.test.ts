import { describe, expect, test } from 'vitest';

import { auditSearch, auditUrl, inAppPath, parseAuditState, traceUrl } from './url';

describe('the audit view in the URL', () => {
  test('a link of ARCHITECTURE.md opens that view', () => {
    const s = parseAuditState(
      '?from=1795687247812&to=1795687847812&filter=namespace%3D%22shop%22%20pod%3D%22woocommerce-6877958-x2b4q%22'
    );
    expect(s).toEqual({
      from: '1795687247812',
      to: '1795687847812',
      filter: 'namespace="shop" pod="woocommerce-6877958-x2b4q"',
      sources: ['cmd', 'net', 'kube_exec'],
      by: 'workload',
      sel: undefined,
    });
  });

  test('defaults: the last hour, every source', () => {
    expect(parseAuditState('')).toMatchObject({ from: 'now-1h', to: 'now', filter: '', sources: ['cmd', 'net', 'kube_exec'] });
  });

  test('sources in display order, unknown ones dropped, + read as a space', () => {
    expect(parseAuditState('?sources=kube_exec,bogus,cmd&filter=comm%3D%22a+b%22').sources).toEqual(['cmd', 'kube_exec']);
    expect(parseAuditState('?filter=comm%3D%22a+b%22').filter).toBe('comm="a b"');
  });

  test('written in the links order, %20 for spaces, defaults left out', () => {
    const search = auditSearch({
      from: 'now-6h',
      to: 'now',
      filter: 'comm!="bash" namespace="shop"',
      sources: ['cmd', 'kube_exec'],
      by: 'container',
      sel: 'dc6db4c5760bc488',
    });
    expect(search).toBe(
      '?from=now-6h&to=now&filter=comm!%3D%22bash%22%20namespace%3D%22shop%22&sources=cmd,kube_exec&by=container&sel=dc6db4c5760bc488'
    );
    expect(parseAuditState(search)).toMatchObject({ filter: 'comm!="bash" namespace="shop"', sources: ['cmd', 'kube_exec'], by: 'container', sel: 'dc6db4c5760bc488' });
    expect(auditSearch({ from: '1', to: '2', filter: ' ', sources: ['cmd', 'net', 'kube_exec'], by: 'workload' })).toBe('?from=1&to=2');
  });

  test('audit and trace links', () => {
    expect(auditUrl({ from: '1', to: '2', filter: 'session="a:1:2"' })).toBe('/a/activityaudit-app/audit?from=1&to=2&filter=session%3D%22a%3A1%3A2%22');
    expect(traceUrl('node-a:1795687500000000000:9001', 1, 2)).toBe('/a/activityaudit-app/trace/node-a:1795687500000000000:9001?from=1&to=2');
    expect(traceUrl('00c8decc-b988-4086-908b-fe8ec37b9380')).toBe('/a/activityaudit-app/trace/00c8decc-b988-4086-908b-fe8ec37b9380');
  });

  test('absolute links of the backend become in-app paths', () => {
    expect(inAppPath('http://grafana.test/a/activityaudit-app/audit?from=1&to=2')).toBe('/a/activityaudit-app/audit?from=1&to=2');
    expect(inAppPath('/a/activityaudit-app/trace/x?from=1&to=2')).toBe('/a/activityaudit-app/trace/x?from=1&to=2');
  });
});
