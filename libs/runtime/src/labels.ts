import type { ReplicaLabels, ReplicaSelector } from './runtime-driver';

/**
 * Label keys on every replica, volume and network a driver creates. Kubernetes-compatible
 * (a DNS prefix, values of [A-Za-z0-9._-]), so both drivers use the same ones.
 */
export const LABEL = {
  dataCenter: 'wharf/data-center',
  tenantId: 'wharf/tenant',
  appId: 'wharf/app',
  componentId: 'wharf/component',
  versionId: 'wharf/version',
  slot: 'wharf/replica',
  template: 'wharf/template',
  restarts: 'wharf/restarts',
  /** On volumes: the component volume's own name. */
  volume: 'wharf/volume',
} as const;

export function toLabels(l: ReplicaLabels): Record<string, string> {
  return {
    [LABEL.dataCenter]: l.dataCenter,
    [LABEL.tenantId]: l.tenantId,
    [LABEL.appId]: l.appId,
    [LABEL.componentId]: l.componentId,
    [LABEL.versionId]: l.versionId,
    [LABEL.slot]: String(l.slot),
    [LABEL.template]: l.template,
    [LABEL.restarts]: String(l.restarts),
  };
}

/** The labels of a replica, or undefined when a required one is missing (not ours, or damaged). */
export function fromLabels(labels: Record<string, string> | undefined): ReplicaLabels | undefined {
  if (!labels) return undefined;
  const slot = Number(labels[LABEL.slot]);
  const restarts = Number(labels[LABEL.restarts] ?? '0');
  const l = {
    dataCenter: labels[LABEL.dataCenter],
    tenantId: labels[LABEL.tenantId],
    appId: labels[LABEL.appId],
    componentId: labels[LABEL.componentId],
    versionId: labels[LABEL.versionId] ?? '',
    template: labels[LABEL.template] ?? '',
  };
  if (!l.dataCenter || !l.tenantId || !l.appId || !l.componentId || !Number.isInteger(slot) || slot < 0) return undefined;
  return { ...l, slot, restarts: Number.isInteger(restarts) && restarts >= 0 ? restarts : 0 };
}

/** Label filters (`key=value`) of a selector within a data center. */
export function selectorFilters(dataCenter: string, selector: ReplicaSelector = {}): string[] {
  const out = [`${LABEL.dataCenter}=${dataCenter}`];
  if (selector.tenantId !== undefined) out.push(`${LABEL.tenantId}=${selector.tenantId}`);
  if (selector.appId !== undefined) out.push(`${LABEL.appId}=${selector.appId}`);
  if (selector.componentId !== undefined) out.push(`${LABEL.componentId}=${selector.componentId}`);
  if (selector.versionId !== undefined) out.push(`${LABEL.versionId}=${selector.versionId}`);
  if (selector.slot !== undefined) out.push(`${LABEL.slot}=${selector.slot}`);
  if (selector.template !== undefined) out.push(`${LABEL.template}=${selector.template}`);
  return out;
}

export function matchesSelector(labels: ReplicaLabels, dataCenter: string, selector: ReplicaSelector = {}): boolean {
  if (labels.dataCenter !== dataCenter) return false;
  for (const [k, v] of Object.entries(selector) as [keyof ReplicaSelector, unknown][]) if (v !== undefined && labels[k] !== v) return false;
  return true;
}
