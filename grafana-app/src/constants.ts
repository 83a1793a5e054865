import pluginJson from './plugin.json';

export const PLUGIN_ID = pluginJson.id; // activityaudit-app
/** Where Grafana mounts the app's pages. */
export const PLUGIN_BASE_URL = `/a/${PLUGIN_ID}`;
/** Where Grafana serves the app backend's resources. */
export const RESOURCES_URL = `/api/plugins/${PLUGIN_ID}/resources`;

export enum ROUTES {
  Audit = 'audit',
  Trace = 'trace',
  PolicyEvents = 'policy-events',
}

export function prefixRoute(route: string): string {
  return `${PLUGIN_BASE_URL}/${route}`;
}
