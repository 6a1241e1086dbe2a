import { create } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import { encodeTask } from '@wharf/tasks';
import { taskFromLegacyArgs } from './legacy-task';

const requested = (kind: eventsV1.OperationKind, argsJson = '') =>
  create(eventsV1.OperationRequestedSchema, { eventId: 'evt-1', kind, target: 'component/acme.shop.api', tenantId: 'acme', argsJson });
const spec = create(eventsV1.ComponentSpecSchema, { source: { case: 'git', value: { url: 'https://git.example/a.git', branch: 'dev' } } });
const K = eventsV1.OperationKind;

describe('taskFromLegacyArgs (events stored with args_json)', () => {
  it('makes the typed task each kind had in its JSON arguments', () => {
    expect(taskFromLegacyArgs(requested(K.SCALE, '{"replicas":2}'), spec)?.kind).toMatchObject({
      case: 'scale',
      value: { eventId: 'evt-1', tenantId: 'acme', componentId: 'acme.shop.api', replicas: 2 },
    });
    expect(taskFromLegacyArgs(requested(K.ROLLBACK, '{"version_id":"v1"}'), spec)?.kind).toMatchObject({ case: 'rollback', value: { versionId: 'v1' } });
    expect(taskFromLegacyArgs(requested(K.DEPLOY, '{"replicas":3}'), spec)?.kind).toMatchObject({ case: 'deploy', value: { versionId: '' } });
    expect(taskFromLegacyArgs(requested(K.RESTART), spec)?.kind.case).toBe('restart');
  });

  it("builds the source the component's spec had when the build was requested", () => {
    const t = taskFromLegacyArgs(requested(K.BUILD, '{}'), spec)!;
    expect(t.kind).toMatchObject({
      case: 'build',
      value: { deployAfter: false, source: { kind: { case: 'git', value: { url: 'https://git.example/a.git', branch: 'dev' } } } },
    });
    expect(() => encodeTask(t)).not.toThrow();
  });

  it('makes none of what cannot be a task', () => {
    expect(taskFromLegacyArgs(requested(K.SCALE, '{}'), spec)).toBeUndefined();
    expect(taskFromLegacyArgs(requested(K.ROLLBACK, '{}'), spec)).toBeUndefined();
    expect(taskFromLegacyArgs(requested(K.UNSPECIFIED), spec)).toBeUndefined();
    expect(taskFromLegacyArgs(requested(K.DEPLOY, 'not json'), spec)).toBeUndefined();
    expect(taskFromLegacyArgs(requested(K.BUILD), undefined)).toBeUndefined();
  });
});
