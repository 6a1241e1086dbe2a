import { create, type Message } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import type { RecordedEvent } from '@wharf/event-store';
import { issueToken } from '@wharf/identity';
import { makeTask } from '@wharf/tasks';
import { Catalog, type CatalogSnapshot } from './catalog';

let position = 100;
const versions = new Map<string, number>();
const ev = (stream: string, message: Message, eventId = ''): RecordedEvent => {
  const version = (versions.get(stream) ?? 0) + 1;
  versions.set(stream, version);
  return { stream, version, type: message.$typeName, message, timeMs: 1_000 + position, eventId, actor: 'user:admin', position: String(++position) };
};
const spec = (name: string, replicas = 1) =>
  create(eventsV1.ComponentSpecSchema, {
    name,
    source: { case: 'image', value: { image: 'nginx' } },
    replicas,
    env: [{ name: 'PW', secret: true, encryptedValue: new Uint8Array([1, 2, 3]) }],
  });

function history(): RecordedEvent[] {
  const tok = issueToken();
  return [
    ev('user/admin', create(eventsV1.UserCreatedSchema, { userId: 'admin', name: 'admin', admin: true })),
    ev(`token/${tok.tokenId}`, create(eventsV1.TokenCreatedSchema, { tokenId: tok.tokenId, userId: 'admin', name: 'boot', secretSha256: tok.secretSha256 })),
    ev('tenant/acme', create(eventsV1.TenantCreatedSchema, { tenantId: 'acme', name: 'acme' })),
    ev('tenant/acme', create(eventsV1.MemberSetSchema, { tenantId: 'acme', userId: 'admin', role: eventsV1.Role.OWNER })),
    ev('app/acme.shop', create(eventsV1.AppCreatedSchema, { appId: 'acme.shop', tenantId: 'acme', name: 'shop' })),
    ...['a', 'b', 'c'].map((n) =>
      ev(
        `component/acme.shop.${n}`,
        create(eventsV1.ComponentCreatedSchema, { componentId: `acme.shop.${n}`, appId: 'acme.shop', tenantId: 'acme', spec: spec(n) }),
      ),
    ),
    ev('component/acme.shop.b', create(eventsV1.ComponentDeletedSchema, { componentId: 'acme.shop.b' })),
    ev(
      'component/acme.shop.a',
      create(eventsV1.OperationRequestedSchema, { eventId: 'evt-1', kind: eventsV1.OperationKind.DEPLOY, target: 'component/acme.shop.a', tenantId: 'acme' }),
      'evt-1',
    ),
    ev(
      'component/acme.shop.a',
      create(eventsV1.OperationRequestedSchema, {
        eventId: 'evt-2',
        kind: eventsV1.OperationKind.SCALE,
        target: 'component/acme.shop.a',
        tenantId: 'acme',
        argsJson: '{"replicas":2}',
      }),
      'evt-2',
    ),
  ];
}

function later(): RecordedEvent[] {
  return [
    ev('component/acme.shop.a', create(eventsV1.OperationStartedSchema, { eventId: 'evt-1' })),
    ev('component/acme.shop.a', create(eventsV1.OperationFinishedSchema, { eventId: 'evt-1', status: eventsV1.OperationStatus.SUCCESS })),
    ev('component/acme.shop.c', create(eventsV1.ComponentUpdatedSchema, { componentId: 'acme.shop.c', spec: spec('c', 5) })),
    ev('component/acme.shop.d', create(eventsV1.ComponentCreatedSchema, { componentId: 'acme.shop.d', appId: 'acme.shop', tenantId: 'acme', spec: spec('d') })),
  ];
}

const fold = (events: RecordedEvent[], c = new Catalog()) => events.reduce((s, e) => s.apply(e), c);

describe('Catalog', () => {
  it('tracks the running operation per component and hands over to a queued one when it finishes', () => {
    const c = fold(history());
    expect(c.components.get('acme.shop.a')!.activeOperation).toBe('evt-1');
    expect(c.operations.get('evt-1')!.status).toBe('pending');
    fold(later(), c);
    expect(c.operations.get('evt-1')!.status).toBe('success');
    expect(c.components.get('acme.shop.a')!.activeOperation).toBe('evt-2');
    expect(c.components.get('acme.shop.a')!.version).toBe(5);
  });

  it('keeps the per-app sorted index right across creates and deletes', () => {
    const c = fold(history());
    expect(c.sortedComponents('acme.shop').map((x) => x.id)).toEqual(['acme.shop.a', 'acme.shop.c']);
    fold(later(), c);
    expect(c.sortedComponents('acme.shop').map((x) => x.id)).toEqual(['acme.shop.a', 'acme.shop.c', 'acme.shop.d']);
  });

  it('restored from a snapshot, folds on to exactly the state of a full replay', () => {
    const events = history();
    const rest = later();
    const replayed = fold([...events, ...rest]);
    // Through JSON, as the snapshot travels through etcd.
    const saved = JSON.parse(JSON.stringify(fold(events).snapshot())) as CatalogSnapshot;
    expect(saved.position).toBe(events.at(-1)!.position);
    const restored = fold(rest, Catalog.restore(saved));
    expect(restored.snapshot()).toEqual(replayed.snapshot());
    expect(restored.components.get('acme.shop.a')!.spec.env[0].encryptedValue).toEqual(new Uint8Array([1, 2, 3]));
    expect(restored.identity.tenants.get('acme')!.members.get('admin')).toBe('owner');
    expect(restored.identity.rolesByUser.get('admin')!.get('acme')).toBe('owner');
    expect(restored.componentsByApp.get('acme.shop')!.has('acme.shop.b')).toBe(false);
  });

  it('folds an operation stored with args_json (before typed tasks) to its typed task', () => {
    const c = fold(history());
    expect(c.operations.get('evt-2')!.task?.kind).toMatchObject({ case: 'scale', value: { eventId: 'evt-2', componentId: 'acme.shop.a', replicas: 2 } });
    expect(c.operations.get('evt-1')!.task?.kind).toMatchObject({ case: 'deploy', value: { versionId: '' } });
  });

  it('keeps the typed task through a snapshot, and reads a snapshot from before typed tasks (args as JSON text)', () => {
    const c = fold(history());
    const saved = JSON.parse(JSON.stringify(c.snapshot())) as CatalogSnapshot;
    expect(Catalog.restore(saved).operations.get('evt-2')!.task).toEqual(c.operations.get('evt-2')!.task);
    const old = { ...saved, operations: saved.operations.map(({ task: _task, ...o }) => ({ ...o, args: o.eventId === 'evt-2' ? '{"replicas":2}' : '' })) };
    expect(Catalog.restore(old).operations.get('evt-2')!.task?.kind).toMatchObject({ case: 'scale', value: { replicas: 2 } });
  });

  it('never makes a pause or resume the active operation, nor hands over to one', () => {
    const c = fold(history());
    const control = (eventId: string, kind: 'pause' | 'resume') =>
      ev(
        'component/acme.shop.a',
        create(eventsV1.OperationRequestedSchema, {
          eventId,
          kind: kind === 'pause' ? eventsV1.OperationKind.PAUSE : eventsV1.OperationKind.RESUME,
          target: 'component/acme.shop.a',
          tenantId: 'acme',
          task: makeTask(kind, { eventId, tenantId: 'acme', componentId: 'acme.shop.a', rolloutEventId: 'evt-1' }),
        }),
        eventId,
      );
    fold([control('evt-p', 'pause')], c);
    expect(c.components.get('acme.shop.a')!.activeOperation).toBe('evt-1');
    const finish = (eventId: string) =>
      ev('component/acme.shop.a', create(eventsV1.OperationFinishedSchema, { eventId, status: eventsV1.OperationStatus.SUCCESS }));
    fold([finish('evt-1')], c);
    expect(c.components.get('acme.shop.a')!.activeOperation).toBe('evt-2'); // the queued scale, not the pause
    fold([finish('evt-2')], c);
    expect(c.components.get('acme.shop.a')!.activeOperation).toBeUndefined();
    expect(c.operations.get('evt-p')!.kind).toBe('pause');
  });

  it('refuses a snapshot of an unknown format', () => {
    expect(() => Catalog.restore({ ...new Catalog().snapshot(), format: 2 as 1 })).toThrow(/format/);
  });
});
