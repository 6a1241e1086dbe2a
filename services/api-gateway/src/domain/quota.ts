import { PermissionDeniedError } from '@wharf/errors';
import type { Tenant } from '@wharf/identity';
import type { ComponentView } from './catalog';
import type { ComponentSpecInput } from './schemas';

/** A tenant's quota of apps (0 = unlimited): refused with 403 when one more would exceed it. */
export function assertAppQuota(tenant: Tenant, liveApps: number): void {
  const max = tenant.quota.maxApps;
  if (max && liveApps >= max) throw new PermissionDeniedError(`quota: tenant ${tenant.id} may have at most ${max} apps`);
}

/**
 * A tenant's quota of components, cpu and memory (0 = unlimited) with `spec` added, or
 * replacing `replacing`'s spec (an update): cpu and memory count every replica.
 */
export function assertComponentQuota(
  tenant: Tenant,
  live: readonly ComponentView[],
  spec: Pick<ComponentSpecInput, 'cpu_millis' | 'memory_mib' | 'replicas'>,
  replacing?: ComponentView,
): void {
  const q = tenant.quota;
  const others = live.filter((c) => c !== replacing);
  if (!replacing && q.maxComponents && others.length >= q.maxComponents)
    throw new PermissionDeniedError(`quota: tenant ${tenant.id} may have at most ${q.maxComponents} components`);
  const cpu = others.reduce((n, c) => n + c.spec.cpuMillis * c.spec.replicas, 0) + spec.cpu_millis * spec.replicas;
  const mem = others.reduce((n, c) => n + c.spec.memoryMib * c.spec.replicas, 0) + spec.memory_mib * spec.replicas;
  if (q.maxCpuMillis && cpu > q.maxCpuMillis)
    throw new PermissionDeniedError(`quota: tenant ${tenant.id} may use at most ${q.maxCpuMillis} cpu millis (this would use ${cpu})`);
  if (q.maxMemoryMib && mem > q.maxMemoryMib)
    throw new PermissionDeniedError(`quota: tenant ${tenant.id} may use at most ${q.maxMemoryMib} MiB (this would use ${mem})`);
}
