import { encodeTask, makeTask } from '@wharf/tasks';
import { decodeAnyTask } from './task-decoding';

const header = { eventId: 'evt-1', tenantId: 'acme', componentId: 'acme.shop.api' };
const json = (body: object) => Buffer.from(JSON.stringify(body));

describe('decodeAnyTask', () => {
  it('reads typed tasks', () => {
    expect(decodeAnyTask(encodeTask(makeTask('scale', { ...header, replicas: 2 })), 'scale').kind).toMatchObject({ case: 'scale', value: { replicas: 2 } });
  });

  it("reads api-gateway's JSON body into the same typed task", () => {
    const t = decodeAnyTask(json({ event_id: 'evt-1', kind: 'scale', target: 'component/acme.shop.api', tenant_id: 'acme', args: { replicas: 0 } }), 'scale');
    expect(t.kind).toMatchObject({ case: 'scale', value: { ...header, replicas: 0 } });
    const d = decodeAnyTask(
      json({ event_id: 'evt-1', kind: 'rollback', target: 'component/acme.shop.api', tenant_id: 'acme', args: { version_id: 'v1' } }),
      'rollback',
    );
    expect(d.kind).toMatchObject({ case: 'rollback', value: { versionId: 'v1' } });
  });

  it('refuses bad bodies, naming the field', () => {
    expect(() => decodeAnyTask(json({ kind: 'scale', target: 'component/x', tenant_id: 't', event_id: 'e', args: {} }), 'scale')).toThrow(
      /task\.scale\.replicas/,
    );
    expect(() => decodeAnyTask(json({ kind: 'deploy', target: 'component/x', tenant_id: 't', event_id: 'e' }), 'stop')).toThrow(/topic/);
    expect(() => decodeAnyTask(json({ kind: 'nope' }), 'nope')).toThrow(/payload\.kind/);
    expect(() => decodeAnyTask(json({ kind: 'stop', target: 'app/x', tenant_id: 't', event_id: 'e' }), 'stop')).toThrow(/payload\.target/);
    expect(() => decodeAnyTask(json({ kind: 'stop', target: 'component/x', tenant_id: 'bad id', event_id: 'e' }), 'stop')).toThrow(/tenant_id/);
    expect(() => decodeAnyTask(Buffer.from('{nope'), 'stop')).toThrow(/payload/);
  });
});
