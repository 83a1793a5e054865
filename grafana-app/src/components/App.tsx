import { Navigate, Route, Routes } from 'react-router-dom';
import { AppRootProps } from '@grafana/data';

import { ROUTES } from '../constants';
import { AuditPage } from '../pages/audit/AuditPage';
import { PolicyEventsPage } from '../pages/policy/PolicyEventsPage';
import { TracePage } from '../pages/trace/TracePage';
import { testIds } from '../testIds';
import { ErrorBoundary } from './ErrorBoundary';

/** The app's root: /a/activityaudit-app/{audit, trace/:id, policy-events}. */
export function App(_props: AppRootProps) {
  return (
    <div data-testid={testIds.app.root}>
      <ErrorBoundary>
        <Routes>
          <Route path={ROUTES.Audit} element={<AuditPage />} />
          <Route path={`${ROUTES.Trace}/:id`} element={<TracePage />} />
          <Route path={ROUTES.PolicyEvents} element={<PolicyEventsPage />} />
          <Route path="*" element={<Navigate to={ROUTES.Audit} replace />} />
        </Routes>
      </ErrorBoundary>
    </div>
  );
}
