import { expect, test } from 'vitest';

import { formatDuration, fromTimeRange, nsToMs, shiftRange, toTimeRange, zoomOut } from './time';

test('ms and relative times', () => {
  const r = toTimeRange('1795687200000', '1795688400000');
  expect(r.from.valueOf()).toBe(1795687200000);
  expect(r.to.valueOf()).toBe(1795688400000);
  expect(fromTimeRange(r)).toEqual({ from: '1795687200000', to: '1795688400000' });
  const rel = toTimeRange('now-1h', 'now');
  expect(rel.to.valueOf() - rel.from.valueOf()).toBeGreaterThan(3599_000);
  expect(fromTimeRange(rel)).toEqual({ from: 'now-1h', to: 'now' });
});

test('back and forward one window, zoom out', () => {
  const r = toTimeRange('1000000', '2000000');
  expect(shiftRange(r, -1)).toEqual({ from: '0', to: '1000000' });
  expect(shiftRange(r, 1)).toEqual({ from: '2000000', to: '3000000' });
  expect(zoomOut(r)).toEqual({ from: '500000', to: '2500000' });
});

test('nanosecond times', () => {
  expect(nsToMs('1795687500500000000')).toBe(1795687500500);
  expect(nsToMs(undefined)).toBe(0);
  expect(formatDuration(850)).toBe('850 ms');
  expect(formatDuration(5500)).toBe('5.5 s');
  expect(formatDuration(184000)).toBe('3 min 4 s');
});
