import { create } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import { PermissionDeniedError } from '@wharf/errors';
import type { Tenant } from '@wharf/identity';
import type { ComponentView } from './catalog';
import { assertAppQuota, assertComponentQuota } from './quota';

const tenant = (quota: Partial<Tenant['quota']>): Tenant =>
  ({ id: 'acme', name: 'acme', quota: { maxApps: 0, maxComponents: 0, maxCpuMillis: 0, maxMemoryMib: 0, ...quota } }) as Tenant;
const component = (cpuMillis: number, replicas: number) =>
  ({ spec: create(eventsV1.ComponentSpecSchema, { cpuMillis, memoryMib: 100, replicas }) }) as ComponentView;

describe('quotas', () => {
  it('counts apps against max_apps (0: no limit)', () => {
    expect(() => assertAppQuota(tenant({ maxApps: 2 }), 1)).not.toThrow();
    expect(() => assertAppQuota(tenant({ maxApps: 2 }), 2)).toThrow(PermissionDeniedError);
    expect(() => assertAppQuota(tenant({}), 1000)).not.toThrow();
  });

  it('counts cpu of every replica, and an update replaces the component it changes', () => {
    const live = [component(500, 2)]; // 1000
    const t = tenant({ maxCpuMillis: 1500, maxComponents: 2 });
    expect(() => assertComponentQuota(t, live, { cpu_millis: 500, memory_mib: 1, replicas: 1 })).not.toThrow();
    expect(() => assertComponentQuota(t, live, { cpu_millis: 501, memory_mib: 1, replicas: 1 })).toThrow(/at most 1500 cpu millis \(this would use 1501\)/);
    expect(() => assertComponentQuota(t, live, { cpu_millis: 700, memory_mib: 1, replicas: 2 }, live[0])).not.toThrow();
    expect(() => assertComponentQuota(tenant({ maxComponents: 1 }), live, { cpu_millis: 1, memory_mib: 1, replicas: 1 })).toThrow(/at most 1 components/);
    expect(() => assertComponentQuota(tenant({ maxMemoryMib: 250 }), live, { cpu_millis: 1, memory_mib: 60, replicas: 1 })).toThrow(/MiB/);
  });
});
