import { useEffect, useState } from 'react';

import { api } from '../api/client';
import { FieldsAnswer } from '../api/types';

let fieldsPromise: Promise<FieldsAnswer> | undefined;

/** The field registry (GET /fields), fetched once per page load. */
export function loadFields(): Promise<FieldsAnswer> {
  if (!fieldsPromise) {
    fieldsPromise = api.fields().catch((e) => {
      fieldsPromise = undefined;
      throw e;
    });
  }
  return fieldsPromise;
}

export function useFields(): FieldsAnswer | undefined {
  const [fields, setFields] = useState<FieldsAnswer>();
  useEffect(() => {
    let live = true;
    loadFields().then(
      (f) => live && setFields(f),
      () => undefined
    );
    return () => {
      live = false;
    };
  }, []);
  return fields;
}

export const SOURCE_TITLES: Record<string, string> = {
  cmd: 'User commands',
  net: 'Network connections',
  kube_exec: 'Kube exec',
};
