import { create } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import { applyRouteEvent } from './route-catalog';
import { componentCreated, componentUpdated, recorded, shop, webPorts } from './test-catalog';

describe('route catalog fold', () => {
  const route = (host: string, pathPrefix = '/') => ({ host, pathPrefix, port: 8080 });

  it('keeps the position where each claim was first made across updates', () => {
    const c = shop(
      componentCreated(10, 'a1.api', 'a1', 't1', {
        name: 'api',
        ports: webPorts,
        routes: [route('x.example.com')],
        tcpPorts: [{ listenPort: 15000, port: 8080 }],
      }),
      componentUpdated(20, 'a1.api', { name: 'api', ports: webPorts, routes: [route('x.example.com', '/'), route('y.example.com', '/v1/')] }),
    );
    const api = c.components.get('a1.api')!;
    expect([...api.claimedAt]).toEqual([
      ['http x.example.com/', 10n],
      ['http y.example.com/v1', 20n],
    ]);
    expect(api.createdAt).toBe(10n);
  });

  it('drops a component on ComponentDeleted, on its delete operation succeeding, and with its app', () => {
    const created = componentCreated(10, 'a1.api', 'a1', 't1', { name: 'api', ports: webPorts });
    const c = shop(created, recorded(11, 'component/a1.api', create(eventsV1.ComponentDeletedSchema, { componentId: 'a1.api' })));
    expect(c.components.size).toBe(0);

    const request = recorded(
      11,
      'component/a1.api',
      create(eventsV1.OperationRequestedSchema, { eventId: 'op1', target: 'component/a1.api', kind: eventsV1.OperationKind.DELETE }),
    );
    const failed = recorded(12, 'component/a1.api', create(eventsV1.OperationFinishedSchema, { eventId: 'op1', status: eventsV1.OperationStatus.FAILURE }));
    expect(shop(created, request, failed).components.size).toBe(1);
    const ok = recorded(12, 'component/a1.api', create(eventsV1.OperationFinishedSchema, { eventId: 'op1', status: eventsV1.OperationStatus.SUCCESS }));
    expect(shop(created, request, ok).components.size).toBe(0);

    expect(shop(created, recorded(13, 'app/a1', create(eventsV1.AppDeletedSchema, { appId: 'a1' }))).components.size).toBe(0);
  });

  it('counts only changes that can move a route', () => {
    const c = shop(componentCreated(10, 'a1.api', 'a1', 't1', { name: 'api', ports: webPorts }));
    const before = c.changes;
    applyRouteEvent(c, recorded(11, 'component/a1.api', create(eventsV1.OperationStartedSchema, { eventId: 'op1' })));
    expect(c.changes).toBe(before);
    applyRouteEvent(c, componentUpdated(12, 'a1.api', { name: 'api', ports: webPorts }));
    expect(c.changes).toBe(before + 1);
  });
});
