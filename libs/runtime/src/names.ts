import { createHash } from 'node:crypto';

/**
 * Readable runtime names: `<prefix>-<tenant>-<app>-<component>-<slot>` for replicas,
 * `<prefix>-<tenant>` for a tenant's network, `<prefix>-<tenant>-<app>-<component>-<volume>-<slot>`
 * for volumes. The prefix ("wharf" by default) tells data centers sharing one engine apart.
 * Joining with "-" can make two components collide (tenant "a-b" app "c" vs tenant "a" app
 * "b-c"); withSuffix() then gives the replica a short hash of its component id.
 */
export function replicaName(prefix: string, names: { tenant: string; app: string; component: string }, slot: number): string {
  return `${prefix}-${names.tenant}-${names.app}-${names.component}-${slot}`;
}

export function networkName(prefix: string, tenantId: string): string {
  return `${prefix}-${tenantId}`;
}

export function volumeName(prefix: string, names: { tenant: string; app: string; component: string }, volume: string, slot: number): string {
  return `${prefix}-${names.tenant}-${names.app}-${names.component}-${volume}-${slot}`;
}

export function withSuffix(name: string, componentId: string): string {
  return `${name}-${createHash('sha256').update(componentId).digest('hex').slice(0, 6)}`;
}

/** Registry host of an image reference ("docker.io" when the first part is not a host). */
export function registryOf(image: string): string {
  const slash = image.indexOf('/');
  if (slash < 0) return 'docker.io';
  const first = image.slice(0, slash);
  return /[.:]/.test(first) || first === 'localhost' ? first : 'docker.io';
}
