import React from 'react';
import { Alert } from '@grafana/ui';

import { testIds } from '../testIds';

interface State {
  error?: Error;
}

/** Shows a page's crash instead of a blank app. */
export class ErrorBoundary extends React.Component<React.PropsWithChildren, State> {
  state: State = {};

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  render() {
    if (this.state.error) {
      return (
        <Alert severity="error" title="Activity Audit failed" data-testid={testIds.app.error}>
          {this.state.error.message}
        </Alert>
      );
    }
    return this.props.children;
  }
}
