import { create, toJsonString } from '@bufbuild/protobuf';
import { appmanagerV1 } from '@wharf/contracts';
import type { Etcd3, KeyLayout } from '@wharf/etcd';
import type { StatusView } from '../domain/status';
import { statusKey } from '../domain/status';

export interface EndpointsView {
  componentId: string;
  tenantId: string;
  appId: string;
  host: string;
  ports: { port: number; protocol: string }[];
  endpoints: { replica: string; address: string; versionId: string }[];
}

/** Where statuses and endpoints go (etcd in the service, memory in tests). */
export interface Publisher {
  status(s: StatusView, changedAtMs: number): Promise<void>;
  endpoints(e: EndpointsView): Promise<void>;
  /** A deleted component: its keys go. */
  remove(componentId: string): Promise<void>;
}

export function statusMessage(s: StatusView, changedAtMs: number, runtime: string): appmanagerV1.ComponentStatus {
  return create(appmanagerV1.ComponentStatusSchema, {
    ...s,
    replicas: s.replicas.map((r) => create(appmanagerV1.ReplicaStatusSchema, { ...r, startedAtMs: BigInt(r.startedAtMs) })),
    changedAtMs: BigInt(changedAtMs),
    runtime,
  });
}

export function endpointsMessage(e: EndpointsView): appmanagerV1.ComponentEndpoints {
  return create(appmanagerV1.ComponentEndpointsSchema, e);
}

/**
 * Writes a component's status and endpoints to etcd (keys.ts) as proto3 JSON, only when they
 * changed: etcd keeps every revision until compaction, so nothing that moves by itself (times,
 * probe counters, cpu and memory) is in what is compared, and a component that does not change
 * costs no write at all.
 */
export class EtcdPublisher implements Publisher {
  private readonly lastStatus = new Map<string, string>();
  private readonly lastEndpoints = new Map<string, string>();

  constructor(
    private readonly etcd: Etcd3,
    private readonly keys: KeyLayout,
    private readonly runtime: string,
  ) {}

  async status(s: StatusView, changedAtMs: number): Promise<void> {
    const key = statusKey(s);
    if (this.lastStatus.get(s.componentId) === key) return;
    await this.etcd
      .put(this.keys.appmgr.status(s.componentId))
      .value(toJsonString(appmanagerV1.ComponentStatusSchema, statusMessage(s, changedAtMs, this.runtime)));
    this.lastStatus.set(s.componentId, key);
  }

  async endpoints(e: EndpointsView): Promise<void> {
    const json = toJsonString(appmanagerV1.ComponentEndpointsSchema, endpointsMessage(e));
    if (this.lastEndpoints.get(e.componentId) === json) return;
    await this.etcd.put(this.keys.endpoints.component(e.componentId)).value(json);
    this.lastEndpoints.set(e.componentId, json);
  }

  async remove(componentId: string): Promise<void> {
    await this.etcd.delete().key(this.keys.endpoints.component(componentId));
    await this.etcd.delete().key(this.keys.appmgr.status(componentId));
    this.lastStatus.delete(componentId);
    this.lastEndpoints.delete(componentId);
  }

  /** Forget what was written (ownership moved): the next owner writes afresh. */
  forget(componentId: string): void {
    this.lastStatus.delete(componentId);
    this.lastEndpoints.delete(componentId);
  }
}
