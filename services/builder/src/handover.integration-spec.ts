import { eventsV1 } from '@wharf/contracts';
import { EventLogClient } from '@wharf/event-log-client';
import { decodeTask, encodeTask } from '@wharf/tasks';
import { clientSecurity, waitFor } from '@wharf/testing';
import Docker from 'dockerode';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildkitAdapter } from './adapters/buildkit.adapter';
import { hostDebian } from './adapters/host-apt.adapter';
import { StackImagesAdapter } from './adapters/stack-images.adapter';
import { BuildWorld, SHARED_WORK_DIR } from '../test/build-world';

/** Pids whose parent is `pid` (from /proc). */
function children(pid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]?.split(' ')[1] === String(pid);
      } catch {
        return false;
      }
    })
    .map(Number);
}

// What happens around a build: a builder killed mid-build (the task is built again by another,
// one Version), a task delivered again after it was recorded, and a build that deploys (handed
// to app-manager's upgrade under the same event id: one timeline, the deploy's final status).
describe('builder: crash, redelivery and hand-over to app-manager', () => {
  const world = new BuildWorld();
  const tenant = `h${Date.now().toString(36)}`;
  const nonce = randomBytes(4).toString('hex');
  let base: string;

  beforeAll(async () => {
    await world.start();
    const docker = new Docker({ socketPath: '/var/run/docker.sock' });
    const buildkit = new BuildkitAdapter({
      dockerCli: '/usr/bin/docker',
      dockerSocket: '/var/run/docker.sock',
      marker: () => 'test',
      scratchDir: SHARED_WORK_DIR,
    });
    base = (await new StackImagesAdapter({ docker, buildkit, ...hostDebian(), workDir: SHARED_WORK_DIR }).ensure('static', () => undefined)).ref;
    const dir = mkdtempSync(join(tmpdir(), 'wharf-slow-'));
    writeFileSync(join(dir, 'Dockerfile'), `ARG BASE\nFROM \${BASE}\nRUN echo ${nonce} && sleep 8 && echo slept\nCMD ["true"]\n`);
    world.git.publish('slow', dir);
    rmSync(dir, { recursive: true, force: true });
  }, 600_000);

  afterAll(() => world.stop(), 60_000);

  const lease = { WHARF_BUILDER_LEASE_MS: '3000' };
  const slow = () => world.gitSource('slow');
  const options = () => ({ options: { buildArgs: { BASE: base } } });

  it('builds a task again on another builder after the first is killed -9 mid-build, recording one Version', async () => {
    const a = await world.startBuilder({ ...lease, WHARF_BUILDER_INSTANCE: 'builder-a' });
    const componentId = await world.createComponent(tenant, 'crash');
    const eventId = await world.requestBuild(tenant, componentId, slow(), options());
    await waitFor(
      'the RUN step running on builder a',
      async () => ((await world.timeline(eventId)).lines.some((l) => /RUN echo .* sleep 8/.test(l)) ? true : undefined),
      120_000,
      200,
    );
    const orphans = children(a.process.pid);
    expect(orphans.length).toBeGreaterThan(0);
    await world.startBuilder({ ...lease, WHARF_BUILDER_INSTANCE: 'builder-b' });
    a.process.child.kill('SIGKILL');
    await a.process.exited;
    // Its docker build dies with it (setpriv --pdeathsig), instead of finishing on its own.
    await waitFor("builder a's children gone", async () => (orphans.every((p) => !existsSync(`/proc/${p}`)) ? true : undefined), 20_000, 100);

    const t = await world.finished(eventId);
    world.dump(t);
    expect(t.info?.status).toBe(eventsV1.OperationStatus.SUCCESS);
    const clones = t.entries.filter((e) => e.body.case === 'stepStarted' && e.body.value.step === 'clone');
    // At least the killed build and the one after it; a loaded machine can make one more lease
    // lapse (at-least-once delivery). What must hold is one success and one recorded Version.
    expect(clones.length).toBeGreaterThanOrEqual(2);
    expect(await world.versions(componentId)).toHaveLength(1);
  }, 400_000);

  it('records nothing more when a recorded build is delivered again', async () => {
    if (world.builders.filter((b) => b.process.child.exitCode === null).length === 0) await world.startBuilder(lease);
    const componentId = await world.createComponent(tenant, 'again');
    const eventId = await world.requestBuild(tenant, componentId, slow(), options());
    expect((await world.finished(eventId)).info?.status).toBe(eventsV1.OperationStatus.SUCCESS);
    const [first] = await world.versions(componentId);
    // The same task again. mq takes a task id again once the first delivery is acked, which the
    // builder does just after event-log has the timeline: until then an enqueue is not created.
    const events = await world.store.read(`component/${componentId}`);
    const requested = events.find((e) => e.type === 'wharf.events.v1.OperationRequested')!.message as eventsV1.OperationRequested;
    await waitFor(
      'the same task enqueued again',
      async () =>
        (await world.apiGatewayMq().enqueue({ topic: 'build', taskId: eventId, eventId, payload: encodeTask(requested.task!) })).created ? true : undefined,
      30_000,
      200,
    );
    await waitFor(
      'the redelivered task handled',
      async () => ((await world.timeline(eventId)).lines.some((l) => l.includes('already recorded version')) ? true : undefined),
      120_000,
      200,
    );
    expect(await world.versions(componentId)).toEqual([first]);
  }, 400_000);

  it('hands a build that deploys to app-manager under the same event id; the deploy decides the final status', async () => {
    if (world.builders.filter((b) => b.process.child.exitCode === null).length === 0) await world.startBuilder(lease);
    const componentId = await world.createComponent(tenant, 'deploy');
    const eventId = await world.requestBuild(tenant, componentId, slow(), { ...options(), deployAfter: true });
    const appManager = world.mq.clientAs('app-manager');
    const upgrade = await waitFor(
      'the upgrade task on mq',
      async () => {
        const res = await appManager.dequeue({ topic: 'upgrade', consumer: 'app-manager-test', leaseMs: 60_000, waitMs: 1000, maxTasks: 1 });
        return res.deliveries[0];
      },
      240_000,
      100,
    );
    const [v] = await world.versions(componentId);
    expect(upgrade.task).toMatchObject({ taskId: eventId, eventId });
    expect(decodeTask(upgrade.task!.payload, 'upgrade').kind).toMatchObject({
      case: 'upgrade',
      value: { eventId, tenantId: tenant, componentId, versionId: v.versionId },
    });
    const before = await world.timeline(eventId);
    expect(before.steps.get('record')).toMatchObject({ status: 'success' });
    expect(before.info?.status).toBe(eventsV1.OperationStatus.RUNNING);

    // app-manager's part: its steps under the same event id, then done.
    const client = new EventLogClient({ address: world.eventLog.grpc, security: clientSecurity(world.etcd, 'app-manager') });
    const op = client.operation(eventId, { target: `component/${componentId}`, tenantId: tenant });
    const deploy = op.step('deploy');
    deploy.line(`rolling out ${v.versionId}`);
    deploy.ok();
    op.done();
    await client.close();
    await appManager.ack({ topic: 'upgrade', taskId: eventId, leaseId: upgrade.leaseId });
    const t = await world.finished(eventId);
    expect(t.info?.status).toBe(eventsV1.OperationStatus.SUCCESS);
    expect([...t.steps.keys()]).toEqual(['clone', 'detect', 'build', 'push', 'record', 'deploy']);
  }, 400_000);
});
