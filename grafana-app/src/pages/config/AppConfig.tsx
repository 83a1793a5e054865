import { css } from '@emotion/css';
import { useState } from 'react';
import { lastValueFrom } from 'rxjs';
import { AppPluginMeta, GrafanaTheme2, PluginConfigPageProps } from '@grafana/data';
import { getBackendSrv } from '@grafana/runtime';
import { Alert, Button, Field, FieldSet, Input, RadioButtonGroup, SecretInput, Stack, useStyles2 } from '@grafana/ui';

import { AppJsonData, AppSecureJsonData } from '../../api/types';
import { PLUGIN_ID } from '../../constants';
import { testIds } from '../../testIds';

type Props = PluginConfigPageProps<AppPluginMeta<AppJsonData>>;

// Defaults of pkg/settings (and provisioning/).
const DEFAULTS: Required<Omit<AppJsonData, 'lokiTenant' | 'lokiUser' | 'grafanaUrl'>> = {
  lokiUrl: 'http://loki:3100',
  lokiAuth: 'none',
  policySelector: '{rule=~".+"}',
  minRole: 'Editor',
  queryTimeout: '30s',
};

const authOptions = [
  { label: 'None', value: 'none' as const },
  { label: 'Basic', value: 'basic' as const },
  { label: 'Bearer token', value: 'bearer' as const },
];
const roleOptions = [
  { label: 'Viewer', value: 'Viewer' as const },
  { label: 'Editor', value: 'Editor' as const },
  { label: 'Admin', value: 'Admin' as const },
];

interface Health {
  status: string;
  message: string;
}

/**
 * The app's settings: where Loki is and how to reach it (secrets in
 * secureJsonData, never read back), the base URL of links, Falcosidekick's
 * stream selector and the lowest role that may read the audit trail.
 */
export function AppConfig({ plugin }: Props) {
  const styles = useStyles2(getStyles);
  const meta = plugin.meta;
  const [data, setData] = useState<AppJsonData>({ ...meta.jsonData });
  const [secrets, setSecrets] = useState<AppSecureJsonData>({});
  const [configured, setConfigured] = useState<Record<string, boolean>>({ ...(meta.secureJsonFields ?? {}) });
  const [saving, setSaving] = useState(false);
  const [health, setHealth] = useState<Health>();
  const [saveError, setSaveError] = useState<string>();

  const set = (patch: Partial<AppJsonData>) => setData((d) => ({ ...d, ...patch }));
  const auth = data.lokiAuth ?? DEFAULTS.lokiAuth;

  const save = async () => {
    setSaving(true);
    setSaveError(undefined);
    try {
      const secureJsonData: AppSecureJsonData = {};
      if (secrets.lokiPassword !== undefined) {
        secureJsonData.lokiPassword = secrets.lokiPassword;
      }
      if (secrets.lokiBearerToken !== undefined) {
        secureJsonData.lokiBearerToken = secrets.lokiBearerToken;
      }
      await lastValueFrom(
        getBackendSrv().fetch({
          url: `/api/plugins/${PLUGIN_ID}/settings`,
          method: 'POST',
          data: { enabled: true, pinned: true, jsonData: data, secureJsonData },
          showErrorAlert: false,
        })
      );
      setConfigured((c) => ({
        ...c,
        ...(secrets.lokiPassword ? { lokiPassword: true } : {}),
        ...(secrets.lokiBearerToken ? { lokiBearerToken: true } : {}),
      }));
      setSecrets({});
      await test();
    } catch (e) {
      setSaveError(errorText(e));
    } finally {
      setSaving(false);
    }
  };

  const test = async () => {
    setHealth(undefined);
    try {
      const res = await lastValueFrom(getBackendSrv().fetch<Health>({ url: `/api/plugins/${PLUGIN_ID}/health`, showErrorAlert: false }));
      setHealth(res.data);
    } catch (e) {
      const data = (e as { data?: Health }).data;
      setHealth(data && data.message ? data : { status: 'ERROR', message: errorText(e) });
    }
  };

  return (
    <div className={styles.page} data-testid={testIds.config.page}>
      <FieldSet label="Loki">
        <Field label="Loki URL" description="Loki, or the collector's embedded store, as the Grafana server reaches it.">
          <Input width={60} value={data.lokiUrl ?? ''} placeholder={DEFAULTS.lokiUrl} onChange={(e) => set({ lokiUrl: e.currentTarget.value })} />
        </Field>
        <Field label="Tenant" description="Sent as X-Scope-OrgID; empty for a single-tenant Loki.">
          <Input width={40} value={data.lokiTenant ?? ''} onChange={(e) => set({ lokiTenant: e.currentTarget.value })} />
        </Field>
        <Field label="Authentication">
          <RadioButtonGroup options={authOptions} value={auth} onChange={(v) => set({ lokiAuth: v })} />
        </Field>
        {auth === 'basic' && (
          <>
            <Field label="User">
              <Input width={40} value={data.lokiUser ?? ''} onChange={(e) => set({ lokiUser: e.currentTarget.value })} />
            </Field>
            <Field label="Password">
              <SecretInput
                width={40}
                isConfigured={!!configured.lokiPassword}
                value={secrets.lokiPassword ?? ''}
                onChange={(e) => setSecrets((s) => ({ ...s, lokiPassword: e.currentTarget.value }))}
                onReset={() => {
                  setConfigured((c) => ({ ...c, lokiPassword: false }));
                  setSecrets((s) => ({ ...s, lokiPassword: '' }));
                }}
              />
            </Field>
          </>
        )}
        {auth === 'bearer' && (
          <Field label="Bearer token">
            <SecretInput
              width={60}
              isConfigured={!!configured.lokiBearerToken}
              value={secrets.lokiBearerToken ?? ''}
              onChange={(e) => setSecrets((s) => ({ ...s, lokiBearerToken: e.currentTarget.value }))}
              onReset={() => {
                setConfigured((c) => ({ ...c, lokiBearerToken: false }));
                setSecrets((s) => ({ ...s, lokiBearerToken: '' }));
              }}
            />
          </Field>
        )}
        <Field label="Query timeout" description="The longest one request may take, e.g. 30s or 2m.">
          <Input width={20} value={data.queryTimeout ?? ''} placeholder={DEFAULTS.queryTimeout} onChange={(e) => set({ queryTimeout: e.currentTarget.value })} />
        </Field>
      </FieldSet>
      <FieldSet label="Links and alerts">
        <Field label="Grafana URL" description="Base of the links the app writes (Falco outputs, CLI); empty uses Grafana's own root URL.">
          <Input width={60} value={data.grafanaUrl ?? ''} placeholder="https://grafana.example.com" onChange={(e) => set({ grafanaUrl: e.currentTarget.value })} />
        </Field>
        <Field label="Falcosidekick stream selector" description="The LogQL stream selector of the alerts Falcosidekick writes to Loki.">
          <Input width={60} value={data.policySelector ?? ''} placeholder={DEFAULTS.policySelector} onChange={(e) => set({ policySelector: e.currentTarget.value })} />
        </Field>
      </FieldSet>
      <FieldSet label="Access">
        <Field label="Minimum role" description="Command lines and connections are sensitive: the lowest Grafana role that may read them.">
          <RadioButtonGroup options={roleOptions} value={data.minRole ?? DEFAULTS.minRole} onChange={(v) => set({ minRole: v })} />
        </Field>
      </FieldSet>
      {saveError && (
        <Alert severity="error" title="Saving failed">
          {saveError}
        </Alert>
      )}
      {health && (
        <Alert severity={health.status === 'OK' ? 'success' : 'error'} title={health.status === 'OK' ? 'Connected' : 'Not connected'}>
          {health.message}
        </Alert>
      )}
      <Stack direction="row" gap={1}>
        <Button data-testid={testIds.config.save} onClick={save} disabled={saving} icon={saving ? 'spinner' : undefined}>
          Save settings
        </Button>
        <Button data-testid={testIds.config.test} variant="secondary" onClick={test}>
          Test connection
        </Button>
      </Stack>
    </div>
  );
}

function errorText(e: unknown): string {
  const fe = e as { data?: { message?: string }; statusText?: string; status?: number; message?: string };
  return fe?.data?.message ?? fe?.message ?? fe?.statusText ?? `HTTP ${fe?.status ?? '?'}`;
}

const getStyles = (theme: GrafanaTheme2) => ({
  page: css({ display: 'flex', flexDirection: 'column', gap: theme.spacing(1), maxWidth: 900 }),
});
