import { create } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import type { RecordedEvent } from '@wharf/event-store';
import { applyRouteEvent, emptyCatalog, type RouteCatalog } from './route-catalog';
import type { GatewaySettings } from './settings';

/** Builders for the domain specs: recorded events at given feed positions, and settings. */

export const settings: GatewaySettings = {
  domain: 'localhost',
  listenAddress: '127.0.0.1',
  httpPort: 32480,
  httpsPort: 32443,
  workerProcesses: 2,
  workerConnections: 4096,
  connectTimeoutS: 5,
  requestTimeoutS: 60,
  idleTimeoutS: 65,
  clientTimeoutS: 30,
  clientMaxBodyMib: 64,
  tcpIdleTimeoutS: 600,
  workerShutdownTimeoutS: 30,
  modulesDir: '/usr/lib/nginx/modules',
};

export function recorded(position: number, stream: string, message: RecordedEvent['message']): RecordedEvent {
  return { stream, version: 1, type: message.$typeName, message, timeMs: 0, eventId: '', actor: 'test', position: String(position) };
}

export type SpecInit = Parameters<typeof create<typeof eventsV1.ComponentSpecSchema>>[1];

export const tenantCreated = (p: number, id: string, name: string) => recorded(p, `tenant/${id}`, create(eventsV1.TenantCreatedSchema, { tenantId: id, name }));
export const appCreated = (p: number, id: string, tenantId: string, name: string) =>
  recorded(p, `app/${id}`, create(eventsV1.AppCreatedSchema, { appId: id, tenantId, name }));
export const componentCreated = (p: number, id: string, appId: string, tenantId: string, spec: SpecInit) =>
  recorded(
    p,
    `component/${id}`,
    create(eventsV1.ComponentCreatedSchema, { componentId: id, appId, tenantId, spec: create(eventsV1.ComponentSpecSchema, spec) }),
  );
export const componentUpdated = (p: number, id: string, spec: SpecInit) =>
  recorded(p, `component/${id}`, create(eventsV1.ComponentUpdatedSchema, { componentId: id, spec: create(eventsV1.ComponentSpecSchema, spec) }));

export const webPorts = [{ port: 8080, protocol: 'http', public: true }];

export function catalogOf(events: RecordedEvent[]): RouteCatalog {
  return events.reduce(applyRouteEvent, emptyCatalog());
}

/** acme/shop with the given components (position 1 and 2 are the tenant and the app). */
export function shop(...components: RecordedEvent[]): RouteCatalog {
  return catalogOf([tenantCreated(1, 't1', 'acme'), appCreated(2, 'a1', 't1', 'shop'), ...components]);
}
