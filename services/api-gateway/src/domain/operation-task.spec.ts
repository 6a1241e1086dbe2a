import { create } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import { ConflictError, InvalidArgumentError, WharfError } from '@wharf/errors';
import { makeTask } from '@wharf/tasks';
import type { ComponentView, OperationView } from './catalog';
import { operationTask } from './operation-task';
import { operationSchema } from './schemas';

const target = { eventId: 'evt-2', tenantId: 'acme', componentId: 'acme.shop.api' };
const component = (over: Partial<ComponentView> = {}): ComponentView =>
  ({
    id: 'acme.shop.api',
    spec: create(eventsV1.ComponentSpecSchema, { source: { case: 'image', value: { image: 'nginx:1.27' } } }),
    versions: [{ id: 'v1' }, { id: 'v2' }],
    currentVersion: 'v2',
    previousVersion: 'v1',
    ...over,
  }) as ComponentView;
const running = (kind: string, task = makeTask('upgrade', { ...target, eventId: 'evt-1' })): OperationView =>
  ({ eventId: 'evt-1', kind, task }) as OperationView;
const task = (body: unknown, c = component(), run?: OperationView) => operationTask(operationSchema.parse(body), target, c, run);
const refusal = (fn: () => unknown): WharfError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof WharfError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
};

describe('operationTask', () => {
  it("builds the component's source as it is now, and deploys after when asked", () => {
    expect(task({ kind: 'build', deploy_after: true }).kind).toEqual({
      case: 'build',
      value: expect.objectContaining({
        ...target,
        deployAfter: true,
        source: expect.objectContaining({ kind: { case: 'image', value: expect.objectContaining({ image: 'nginx:1.27' }) } }),
      }),
    });
    expect(task({ kind: 'build' }).kind).toMatchObject({ case: 'build', value: { deployAfter: false } });
  });

  it('rolls back to the previous version unless one is named, and refuses a version the component does not have', () => {
    expect(task({ kind: 'rollback' }).kind).toMatchObject({ case: 'rollback', value: { versionId: 'v1' } });
    expect(task({ kind: 'rollback', version_id: 'v2' }).kind).toMatchObject({ value: { versionId: 'v2' } });
    expect(refusal(() => task({ kind: 'rollback' }, component({ previousVersion: undefined })))).toMatchObject({ reason: 'no_previous_version' });
    const bad = refusal(() => task({ kind: 'deploy', version_id: 'v9' }));
    expect(bad).toBeInstanceOf(InvalidArgumentError);
    expect(bad.field).toBe('version_id');
    expect(task({ kind: 'upgrade' }).kind).toMatchObject({ case: 'upgrade', value: { versionId: '' } });
  });

  it('scales to the replicas asked, 0 included', () => {
    expect(task({ kind: 'scale', replicas: 0 }).kind).toMatchObject({ case: 'scale', value: { replicas: 0 } });
  });

  it('pauses or resumes only a running rollout, naming it', () => {
    expect(task({ kind: 'pause' }, component(), running('upgrade')).kind).toMatchObject({ case: 'pause', value: { ...target, rolloutEventId: 'evt-1' } });
    expect(task({ kind: 'resume' }, component(), running('restart')).kind).toMatchObject({ case: 'resume', value: { rolloutEventId: 'evt-1' } });
    const buildThatDeploys = makeTask('build', { ...target, source: { kind: { case: 'image', value: { image: 'x' } } }, deployAfter: true });
    expect(task({ kind: 'pause' }, component(), running('build', buildThatDeploys)).kind.case).toBe('pause');
    const none = refusal(() => task({ kind: 'pause' }));
    expect(none).toBeInstanceOf(ConflictError);
    expect(none.reason).toBe('no_rollout');
    expect(refusal(() => task({ kind: 'resume' }, component(), running('stop'))).message).toContain('is a stop');
  });
});
