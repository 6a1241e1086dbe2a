import { create } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import type { EventStore } from '@wharf/event-store';
import { issueToken } from '@wharf/identity';

/** Test and bench fixtures: identity and operations written to the event store as api-gateway would. */
export async function seedUser(store: EventStore, name: string, memberOf: string[], admin = false): Promise<string> {
  const t = issueToken();
  await store.append(`user/${name}`, [{ message: create(eventsV1.UserCreatedSchema, { userId: name, name, admin }) }], 0);
  await store.append(
    `token/${t.tokenId}`,
    [{ message: create(eventsV1.TokenCreatedSchema, { tokenId: t.tokenId, userId: name, name: 'test', secretSha256: t.secretSha256 }) }],
    0,
  );
  for (const tenantId of memberOf) {
    if ((await store.version(`tenant/${tenantId}`)) === 0) {
      await store.append(`tenant/${tenantId}`, [{ message: create(eventsV1.TenantCreatedSchema, { tenantId, name: tenantId }) }], 0);
    }
    await store.append(`tenant/${tenantId}`, [{ message: create(eventsV1.MemberSetSchema, { tenantId, userId: name, role: eventsV1.Role.VIEWER }) }], 'any');
  }
  return t.token;
}

/** A component of a tenant and an operation requested on it; returns the feed position of the request. */
export async function seedOperation(store: EventStore, tenantId: string, componentId: string, eventId: string): Promise<string> {
  const stream = `component/${componentId}`;
  if ((await store.version(stream)) === 0) {
    await store.append(stream, [{ message: create(eventsV1.ComponentCreatedSchema, { componentId, appId: 'app1', tenantId }) }], 0);
  }
  const r = await store.append(
    stream,
    [{ message: create(eventsV1.OperationRequestedSchema, { eventId, kind: eventsV1.OperationKind.BUILD, target: stream, tenantId }), eventId }],
    'any',
  );
  return r.position;
}
