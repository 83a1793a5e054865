import { AppPlugin } from '@grafana/data';

import { AppJsonData } from './api/types';
import { App } from './components/App';
import { AppConfig } from './pages/config/AppConfig';

export const plugin = new AppPlugin<AppJsonData>().setRootPage(App).addConfigPage({
  title: 'Configuration',
  icon: 'cog',
  body: AppConfig,
  id: 'configuration',
});
