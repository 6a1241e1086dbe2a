import { create } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import { KeyLayout, type Etcd3 } from '@wharf/etcd';
import type { EventStore } from '@wharf/event-store';
import { SecretBox } from '@wharf/secrets';
import { waitFor } from '@wharf/testing';
import type Docker from 'dockerode';

/** Helpers of lb-manager's integration tests: the service as a real process (from @wharf/testing), routes as events, endpoints as etcd keys, replicas as containers. */

export { nginxAlive, startLbManager, viaGateway, type RoutesView, type RunningLbManager } from '@wharf/testing';

/** The key startLbManager gives lb-manager (WHARF_SECRET_KEY). */
export const TEST_SECRET_KEY = 'ab'.repeat(32);
export const testBox = new SecretBox(SecretBox.parseKey(TEST_SECRET_KEY));
export type Spec = Parameters<typeof create<typeof eventsV1.ComponentSpecSchema>>[1];

/** Writes routes the way api-gateway does: events on the tenant, app and component streams. */
export class RouteEvents {
  private versions = new Map<string, number>();
  constructor(private readonly store: EventStore) {}

  private async append(stream: string, message: Parameters<EventStore['append']>[1][number]['message']): Promise<void> {
    const expected = this.versions.get(stream) ?? 0;
    const res = await this.store.append(stream, [{ message, actor: 'test' }], expected);
    this.versions.set(stream, res.version);
  }

  tenant(id: string, name: string) {
    return this.append(`tenant/${id}`, create(eventsV1.TenantCreatedSchema, { tenantId: id, name }));
  }
  app(id: string, tenantId: string, name: string) {
    return this.append(`app/${id}`, create(eventsV1.AppCreatedSchema, { appId: id, tenantId, name }));
  }
  component(id: string, appId: string, tenantId: string, spec: Spec) {
    return this.append(
      `component/${id}`,
      create(eventsV1.ComponentCreatedSchema, { componentId: id, appId, tenantId, spec: create(eventsV1.ComponentSpecSchema, spec) }),
    );
  }
  update(id: string, spec: Spec) {
    return this.append(`component/${id}`, create(eventsV1.ComponentUpdatedSchema, { componentId: id, spec: create(eventsV1.ComponentSpecSchema, spec) }));
  }
  remove(id: string) {
    return this.append(`component/${id}`, create(eventsV1.ComponentDeletedSchema, { componentId: id }));
  }
}

/** Writes `<root>/endpoints/<component>` as app-manager does (ComponentEndpoints, proto3 JSON). */
export async function setEndpoints(etcd: Etcd3, keys: KeyLayout, componentId: string, addresses: string[], ports: { port: number; protocol: string }[] = []) {
  const value = { componentId, ports, endpoints: addresses.map((address, i) => ({ replica: `${componentId}-${i}`, address, versionId: 'v1' })) };
  await etcd.put(keys.endpoints.component(componentId)).value(JSON.stringify(value));
}

/** Containers of one test file on a Docker network it created (and removes, with them). */
export class TestNetwork {
  private network?: Docker.Network;
  private containers: Docker.Container[] = [];
  constructor(
    private readonly docker: Docker,
    readonly name: string,
  ) {}

  async create(): Promise<void> {
    this.network = await this.docker.createNetwork({ Name: this.name, Driver: 'bridge', Labels: { 'wharf.test': 'lb-manager' } });
  }

  /** Starts a container on the network; resolves with its address there. */
  async run(image: string, name: string): Promise<{ container: Docker.Container; address: string }> {
    const container = await this.docker.createContainer({
      Image: image,
      name: `${this.name}-${name}`,
      Labels: { 'wharf.test': 'lb-manager' },
      HostConfig: { NetworkMode: this.name, AutoRemove: false },
    });
    this.containers.push(container);
    await container.start();
    const info = await container.inspect();
    const address = info.NetworkSettings.Networks[this.name]?.IPAddress;
    if (!address) throw new Error(`container ${name} has no address on ${this.name}`);
    return { container, address };
  }

  async stop(container: Docker.Container): Promise<void> {
    await container.stop({ t: 2 }).catch(() => undefined);
  }

  async destroy(): Promise<void> {
    for (const c of this.containers) await c.remove({ force: true }).catch(() => undefined);
    await this.network?.remove().catch(() => undefined);
  }
}

/** Polls `probe` until it returns a value, at most `boundMs`; resolves with the value and how long it took (reported, never asserted). */
export async function within<T>(what: string, boundMs: number, probe: () => Promise<T | undefined>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await waitFor(what, probe, boundMs, 10);
  return { value, ms: Date.now() - started };
}
