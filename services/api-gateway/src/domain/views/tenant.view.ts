import type { Tenant } from '@wharf/identity';

export function quotaView(t: Tenant) {
  return { max_apps: t.quota.maxApps, max_components: t.quota.maxComponents, max_cpu_millis: t.quota.maxCpuMillis, max_memory_mib: t.quota.maxMemoryMib };
}

export function tenantView(t: Tenant) {
  return { id: t.id, name: t.name, created_at_ms: t.createdAtMs, quota: quotaView(t) };
}
