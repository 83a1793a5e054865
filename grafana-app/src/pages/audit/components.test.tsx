import { fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, test, vi } from 'vitest';

import { GroupsAnswer } from '../../api/types';
import { testIds } from '../../testIds';
import { FilterBox } from './FilterBox';
import { Groupings } from './Groupings';
import { SourceToggles } from './SourceToggles';

const groups: GroupsAnswer = {
  by: ['namespace', 'workload', 'pod'],
  total: 95,
  groups: [
    {
      field: 'namespace',
      value: 'shop',
      count: 72,
      term: 'namespace="shop"',
      filter: 'namespace="shop"',
      groups: [
        {
          field: 'workload',
          value: 'mysql',
          count: 22,
          term: 'workload="mysql"',
          filter: 'namespace="shop" workload="mysql"',
          groups: [{ field: 'pod', value: 'mysql-0', count: 22, term: 'pod="mysql-0"', filter: 'namespace="shop" workload="mysql" pod="mysql-0"' }],
        },
      ],
    },
  ],
};

describe('Groupings', () => {
  test('shows the counts; a click and Enter scope to the node', () => {
    const onScope = vi.fn();
    render(<Groupings by="workload" filter="" data={groups} loading={false} onBy={() => undefined} onScope={onScope} />);
    const pod = screen.getByTestId(testIds.audit.groupNode('pod', 'mysql-0'));
    expect(pod.textContent).toContain('(22)');
    fireEvent.click(pod);
    expect(onScope).toHaveBeenLastCalledWith(groups.groups[0].groups![0].groups![0]);
    const ns = screen.getByTestId(testIds.audit.groupNode('namespace', 'shop'));
    fireEvent.keyDown(ns, { key: 'Enter' });
    expect(onScope).toHaveBeenLastCalledWith(groups.groups[0]);
  });

  test('ArrowLeft collapses a node', () => {
    render(<Groupings by="workload" filter="" data={groups} loading={false} onBy={() => undefined} onScope={() => undefined} />);
    fireEvent.keyDown(screen.getByTestId(testIds.audit.groupNode('namespace', 'shop')), { key: 'ArrowLeft' });
    expect(screen.queryByTestId(testIds.audit.groupNode('pod', 'mysql-0'))).toBeNull();
  });

  test('the node in the filter is marked', () => {
    render(<Groupings by="workload" filter='namespace="shop"' data={groups} loading={false} onBy={() => undefined} onScope={() => undefined} />);
    expect(screen.getByTestId(testIds.audit.groupNode('namespace', 'shop')).getAttribute('aria-selected')).toBe('true');
  });
});

describe('FilterBox', () => {
  test('shows the backend error under its column and applies on Enter', () => {
    const onApply = vi.fn();
    render(
      <FilterBox
        value='comm=="x"'
        fields={[]}
        scope={{ from: 1, to: 2 }}
        error={{ text: 'comm=="x"', message: 'invalid filter at column 5: unknown operator "=="', column: 5 }}
        onApply={onApply}
      />
    );
    const err = screen.getByTestId(testIds.audit.filterError);
    expect(err.querySelector('pre')!.textContent).toBe('comm=="x"\n    ^');
    const input = screen.getByTestId(testIds.audit.filterInput) as HTMLInputElement;
    fireEvent.change(input, { target: { value: 'comm="x"' } });
    expect(screen.queryByTestId(testIds.audit.filterError)).toBeNull(); // the error was about other text
    fireEvent.keyDown(input, { key: 'Escape' });
    fireEvent.keyDown(input, { key: 'Enter' });
    expect(onApply).toHaveBeenCalledWith('comm="x"');
  });
});

describe('SourceToggles', () => {
  test('counts, and a click hides a source or shows all again', () => {
    const onChange = vi.fn();
    const counts = { from: 0, to: 1, step: 1, times: [0], total: 95, series: [{ source: 'cmd' as const, title: '', counts: [60], total: 60 }] };
    const { rerender } = render(<SourceToggles selected={['cmd', 'net', 'kube_exec']} counts={counts} onChange={onChange} />);
    expect(screen.getByTestId(testIds.audit.sourceToggle('cmd')).textContent).toContain('60');
    fireEvent.click(screen.getByTestId(testIds.audit.sourceToggle('net')));
    expect(onChange).toHaveBeenLastCalledWith(['cmd', 'kube_exec']);
    rerender(<SourceToggles selected={['cmd']} counts={counts} onChange={onChange} />);
    fireEvent.click(screen.getByTestId(testIds.audit.sourceToggle('cmd')));
    expect(onChange).toHaveBeenLastCalledWith(['cmd', 'net', 'kube_exec']);
    fireEvent.click(screen.getByTestId(testIds.audit.sourceToggle('net')), { altKey: true });
    expect(onChange).toHaveBeenLastCalledWith(['net']);
  });
});
