import { create, toBinary } from '@bufbuild/protobuf';
import { tasksV1 } from '@wharf/contracts';
import { InvalidArgumentError } from '@wharf/errors';
import fc from 'fast-check';
import { decodeTask, encodeTask, makeTask, rolloutAfterBuild, TASK_CONSUMER, TASK_KINDS, TASK_TOPICS, taskHeader, topicOf, type TaskKind } from './index';

const header = { eventId: 'evt-1', tenantId: 'acme', componentId: 'acme.shop.api' };

/** One valid task of every kind. */
const examples: Record<TaskKind, tasksV1.Task> = {
  build: makeTask('build', { ...header, source: { kind: { case: 'git', value: { url: 'https://git.example/a.git', branch: 'main' } } }, deployAfter: true }),
  deploy: makeTask('deploy', { ...header, versionId: 'v1' }),
  start: makeTask('start', header),
  stop: makeTask('stop', header),
  restart: makeTask('restart', header),
  scale: makeTask('scale', { ...header, replicas: 0 }),
  upgrade: makeTask('upgrade', header),
  rollback: makeTask('rollback', { ...header, versionId: 'v1' }),
  delete: makeTask('delete', header),
  pause: makeTask('pause', { ...header, rolloutEventId: 'evt-0' }),
  resume: makeTask('resume', { ...header, rolloutEventId: 'evt-0' }),
};

const refusal = (fn: () => unknown): InvalidArgumentError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof InvalidArgumentError) return err;
    throw err;
  }
  throw new Error('expected an InvalidArgumentError');
};

describe('tasks', () => {
  it.each(TASK_KINDS.map((k) => [k]))('round-trips a %s task through its topic', (kind) => {
    const task = examples[kind];
    const decoded = decodeTask(encodeTask(task), TASK_TOPICS[kind]);
    expect(decoded).toEqual(task);
    expect(taskHeader(decoded)).toEqual({ kind, ...header });
    expect(TASK_CONSUMER[kind]).toBe(kind === 'build' ? 'builder' : 'app-manager');
  });

  it('keeps scale to 0 replicas apart from a scale without replicas', () => {
    const zero = decodeTask(encodeTask(examples.scale));
    expect(zero.kind.case === 'scale' && zero.kind.value.replicas).toBe(0);
    const missing = toBinary(tasksV1.TaskSchema, makeTask('scale', header));
    expect(refusal(() => decodeTask(missing)).field).toBe('task.scale.replicas');
    expect(refusal(() => encodeTask(makeTask('scale', header))).field).toBe('task.scale.replicas');
  });

  it('refuses garbage with an error that names the payload and the expected type', () => {
    const err = refusal(() => decodeTask(new Uint8Array(16).fill(0xff)));
    expect(err.field).toBe('payload');
    expect(err.message).toMatch(/^payload: 16 bytes that are not a wharf\.tasks\.v1\.Task \(.+\)$/);
  });

  it('says so when the payload is a JSON task body from before typed tasks', () => {
    const legacy = Buffer.from(JSON.stringify({ event_id: 'evt-1', kind: 'deploy', target: 'component/x', tenant_id: 't', args: {} }));
    expect(refusal(() => decodeTask(legacy)).message).toContain('looks like JSON');
  });

  it('refuses a payload without a kind, naming the kinds', () => {
    expect(refusal(() => decodeTask(new Uint8Array())).message).toContain('build, deploy, start');
  });

  it('refuses a task on another kind of topic', () => {
    const err = refusal(() => decodeTask(encodeTask(examples.deploy), topicOf('build')));
    expect(err).toMatchObject({ field: 'topic', message: 'topic: a deploy task arrived on topic "build"' });
  });

  it.each([
    ['missing event id', makeTask('start', { ...header, eventId: '' }), 'task.start.event_id'],
    ['an id with a space', makeTask('stop', { ...header, tenantId: 'a b' }), 'task.stop.tenant_id'],
    ['a build without source', makeTask('build', header), 'task.build.source'],
    ['a git build without url', makeTask('build', { ...header, source: { kind: { case: 'git', value: { branch: 'main' } } } }), 'task.build.source.git.url'],
    ['a rollback without version', makeTask('rollback', header), 'task.rollback.version_id'],
    ['a pause without its rollout', makeTask('pause', header), 'task.pause.rollout_event_id'],
    ['no kind at all', create(tasksV1.TaskSchema), 'task'],
  ])('refuses to encode %s', (_name, task, field) => {
    expect(refusal(() => encodeTask(task)).field).toBe(field);
  });

  it('decodes any bytes to a valid task or an InvalidArgumentError, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          decodeTask(bytes);
        } catch (err) {
          return err instanceof InvalidArgumentError;
        }
        return true;
      }),
      { numRuns: 2000 },
    );
  });

  it('turns a build that deploys into an upgrade under the same event id', () => {
    const build = examples.build.kind.case === 'build' ? examples.build.kind.value : undefined;
    const next = rolloutAfterBuild(build!, 'v7')!;
    expect(decodeTask(encodeTask(next), 'upgrade').kind).toMatchObject({ case: 'upgrade', value: { ...header, versionId: 'v7' } });
    expect(rolloutAfterBuild({ ...build!, deployAfter: false }, 'v7')).toBeUndefined();
  });
});
