import { LABEL } from '@wharf/runtime';
import {
  dockerClient,
  freePort,
  startApiGateway,
  startAppManager,
  startBuilder,
  startEtcd,
  startEventLog,
  startGitDaemon,
  startMq,
  startRegistry,
  waitFor,
  type EtcdInstance,
  type GitDaemon,
  type RegistryInstance,
  type RunningApiGateway,
  type RunningAppManager,
  type RunningBuilder,
  type RunningEventLog,
  type RunningMq,
} from '@wharf/testing';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// A user's build through the public API: a component with a git source, `POST .../operations
// {kind: build}` answering 202 with an event id, the builder taking the typed task from mq, the
// timeline (steps and lines) in event-log under that id, the final status and the new version
// through api-gateway, and the image in the registry answering on the Docker Engine.
describe('e2e: build a component from git through the API', () => {
  let etcd: EtcdInstance;
  let mq: RunningMq;
  let eventLog: RunningEventLog;
  let registry: RegistryInstance;
  let git: GitDaemon;
  let api: RunningApiGateway;
  let builder: RunningBuilder;
  let appManager: RunningAppManager;
  let token: string;
  let dataDir: string;
  const docker = dockerClient();
  const cleanup: (() => Promise<unknown>)[] = [];
  const tenant = `e${Date.now().toString(36)}`;
  // app-manager sees and touches only this run's containers and networks.
  const dataCenter = `builder-e2e-${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
  let componentId = '';

  beforeAll(async () => {
    etcd = await startEtcd();
    dataDir = mkdtempSync(join(tmpdir(), 'wharf-builder-e2e-'));
    [mq, eventLog, registry, git] = await Promise.all([startMq(etcd), startEventLog(etcd, join(dataDir, 'eventlog')), startRegistry(), startGitDaemon()]);
    git.publish('web', join(__dirname, 'fixtures', 'nodejs'));
    api = await startApiGateway(etcd, mq.grpc, { WHARF_EVENTLOG_ADDR: eventLog.grpc });
    token = api.adminToken!;
    builder = await startBuilder(etcd, {
      WHARF_MQ_ADDR: mq.grpc,
      WHARF_EVENTLOG_ADDR: eventLog.grpc,
      WHARF_BUILDER_REGISTRY: registry.address,
      WHARF_BUILDER_REGISTRY_USERNAME: registry.username,
      WHARF_BUILDER_REGISTRY_PASSWORD: registry.password,
      WHARF_BUILDER_WORK_DIR: '/var/tmp/wharf-builder-test',
    });
    const credentials = join(dataDir, 'registry-credentials');
    writeFileSync(credentials, `${registry.username}:${registry.password}`, { mode: 0o600 });
    appManager = await startAppManager(etcd, mq.grpc, eventLog.grpc, {
      WHARF_DATA_CENTER: dataCenter,
      WHARF_DOCKER_NAME_PREFIX: `t${dataCenter.replace(/[^a-z0-9]/g, '').slice(-12)}`,
      WHARF_PULL_REGISTRIES: registry.address,
      WHARF_REGISTRY_CREDENTIALS_FILE: credentials,
      WHARF_APPMGR_DRAIN_MS: '200',
      WHARF_APPMGR_STOP_GRACE_MS: '2000',
    });
  }, 180_000);

  afterAll(async () => {
    for (const f of cleanup.reverse()) await f().catch(() => undefined);
    await Promise.allSettled([builder?.stop(), api?.stop(), appManager?.stop()]);
    // What app-manager ran for this data center (and nothing else).
    const filters = { label: [`${LABEL.dataCenter}=${dataCenter}`] };
    for (const c of await docker.listContainers({ all: true, filters }).catch(() => []))
      await docker
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined);
    for (const n of await docker.listNetworks({ filters }).catch(() => []))
      await docker
        .getNetwork(n.Id)
        .remove()
        .catch(() => undefined);
    await Promise.allSettled([mq?.stop(), eventLog?.stop(), registry?.destroy(), git?.stop()]);
    await etcd?.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${api.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  /** Pulls a version's image from the registry, runs it on the Docker Engine (port on 127.0.0.1) and answers what it serves. */
  const imageAnswer = async (image: string) => {
    const stream = (await docker.pull(image, {
      authconfig: { username: registry.username, password: registry.password, serveraddress: registry.address },
    })) as NodeJS.ReadableStream;
    await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())));
    cleanup.push(() => docker.getImage(image).remove({ force: true }));
    const port = await freePort();
    const container = await docker.createContainer({
      Image: image,
      Labels: { 'org.wharf.test': 'builder-e2e' },
      ExposedPorts: { '8080/tcp': {} },
      HostConfig: { PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] } },
    });
    cleanup.push(() => container.remove({ force: true }));
    await container.start();
    return waitFor(
      'the built image answering',
      async () => {
        const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) });
        return { status: res.status, body: await res.text() };
      },
      60_000,
      200,
    );
  };

  it('answers 202, reports every step under the event id, records the version and the image answers', async () => {
    expect((await call('POST', '/tenants', { name: tenant })).status).toBe(201);
    const app = await call('POST', `/tenants/${tenant}/apps`, { name: 'shop' });
    expect(app.status).toBe(201);
    const component = await call('POST', `/tenants/${tenant}/apps/${app.body.id as string}/components`, {
      name: 'web',
      source: { git: { url: git.url('web'), branch: 'main' } },
      ports: [{ port: 8080, protocol: 'http' }],
    });
    expect(component.status).toBe(201);
    componentId = component.body.id as string;

    const accepted = await call('POST', `/tenants/${tenant}/components/${componentId}/operations`, { kind: 'build' });
    expect(accepted.status).toBe(202);
    const eventId = accepted.body.event_id as string;

    // The timeline as a user's client reads it from event-log, page by page. event-log answers
    // the final status as soon as it decides it, before the entries leading to it are readable:
    // the history is whole once its final entry (the last of them) is read.
    type Entry = { type: string; step?: string; status?: string; text?: string };
    const timeline = await waitFor(
      'the build to finish',
      async () => {
        const entries: Entry[] = [];
        for (let after = 0, page = 0; page < 100; page++) {
          const res = await fetch(`${eventLog.url}/api/v1/operations/${eventId}/entries?limit=5000&after_seq=${after}`, {
            headers: { authorization: `Bearer ${token}` },
          });
          if (res.status !== 200) return undefined;
          const body = (await res.json()) as { operation: { status: string; message: string }; entries: Entry[]; next_after_seq: number; more: boolean };
          entries.push(...body.entries);
          if (!['success', 'failure', 'timeout'].includes(body.operation.status)) return undefined;
          if (!body.more) return entries.some((e) => e.type === 'final') ? { operation: body.operation, entries } : undefined;
          if (body.entries.length === 0) return undefined;
          after = body.next_after_seq;
        }
        return undefined;
      },
      300_000,
      500,
    );
    // With its message, so a failure says why.
    expect({ status: timeline.operation.status, message: timeline.operation.message }).toEqual({ status: 'success', message: null });
    const finished = timeline.entries.filter((e) => e.type === 'step_finished').map((e) => [e.step, e.status]);
    expect(finished).toEqual(['clone', 'detect', 'build', 'push', 'record'].map((s) => [s, 'success']));
    expect(timeline.entries.some((e) => e.type === 'line' && e.text === 'found package.json in the build directory')).toBe(true);

    // api-gateway folds the Version the builder appended and event-log's final status.
    const versions = await waitFor(
      'the version through the API',
      async () => {
        const res = await call('GET', `/tenants/${tenant}/components/${componentId}/versions`);
        const items = (res.body.items ?? []) as { id: string; image: string; status: string }[];
        return items.length ? items : undefined;
      },
      30_000,
      200,
    );
    expect(versions).toHaveLength(1);
    expect(versions[0]).toMatchObject({
      status: 'success',
      image: expect.stringMatching(new RegExp(`^${registry.address}/${tenant}/${componentId}:v-[0-9a-f]{16}$`)),
    });
    const op = await waitFor(
      'the operation finished through the API',
      async () => {
        const res = await call('GET', `/tenants/${tenant}/operations/${eventId}`);
        return res.body.status === 'success' ? res.body : undefined;
      },
      30_000,
      200,
    );
    expect(op).toMatchObject({ event_id: eventId, status: 'success' });

    expect(await imageAnswer(versions[0].image)).toEqual({ status: 200, body: 'hello from nodejs: two days are 172800000 ms\n' });
  }, 400_000);

  // Push-to-deploy: the component's webhook, a commit pushed to the git daemon, the signed push
  // event posted as a git host would: one operation from the build of exactly that commit to
  // app-manager's new replica answering with the pushed code.
  it('deploys the pushed commit when a signed push event arrives: one operation, the new replica answers', async () => {
    expect(componentId).not.toBe('');
    const hook = await call('POST', `/tenants/${tenant}/components/${componentId}/webhook`);
    expect(hook.status).toBe(201);
    const server = readFileSync(join(__dirname, 'fixtures', 'nodejs', 'server.js'), 'utf8').replace('hello from nodejs', 'pushed to nodejs');
    const commit = git.change('web', { 'server.js': server });
    const body = JSON.stringify({ ref: 'refs/heads/main', before: '0'.repeat(40), after: commit, repository: { clone_url: git.url('web') } });
    const signature = `sha256=${createHmac('sha256', hook.body.secret as string)
      .update(body)
      .digest('hex')}`;
    const post = (sig: string) =>
      fetch(hook.body.url as string, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': `e2e-${commit}`, 'x-hub-signature-256': sig },
        body,
      });
    expect((await post(signature.replace(/.$/, (c) => (c === '0' ? '1' : '0')))).status).toBe(401);
    const res = await post(signature);
    const answer = (await res.json()) as { action: string; event_id: string; commit: string };
    expect({ status: res.status, ...answer }).toMatchObject({ status: 202, action: 'build', commit, event_id: expect.stringMatching(/^evt-/) });

    // The build's final status is the deploy's (app-manager's done), under the same event id.
    const op = await waitFor(
      'the push-to-deploy operation to finish',
      async () => {
        const got = await call('GET', `/tenants/${tenant}/operations/${answer.event_id}`);
        return ['success', 'failure', 'timeout'].includes(got.body.status as string) ? got.body : undefined;
      },
      300_000,
      500,
    );
    expect(op).toMatchObject({ event_id: answer.event_id, kind: 'build' });
    expect({ status: op.status, message: op.message, failed_step: op.failed_step }).toEqual({ status: 'success', message: null, failed_step: null });
    const versions = (await call('GET', `/tenants/${tenant}/components/${componentId}/versions`)).body.items as {
      id: string;
      build_event_id: string;
      source: string;
    }[];
    const version = versions.find((v) => v.build_event_id === answer.event_id)!;
    expect(version.source).toBe(`${git.url('web')}#${commit}`);
    const status = await waitFor(
      'the new version running',
      async () => {
        const got = await call('GET', `/tenants/${tenant}/components/${componentId}/status`);
        const replicas = (got.body.replicas ?? []) as { state: string; version_id: string; address: string }[];
        return replicas.length && replicas.every((r) => r.state === 'ready' && r.version_id === version.id && r.address) ? replicas : undefined;
      },
      60_000,
      200,
    );
    // The replica's address is on the network app-manager made for this run's data center.
    const served = await waitFor(
      'the new replica answering',
      async () => {
        const got = await fetch(`http://${status[0].address}:8080/`, { signal: AbortSignal.timeout(2000) });
        return { status: got.status, body: await got.text() };
      },
      30_000,
      200,
    );
    expect(served).toEqual({ status: 200, body: 'pushed to nodejs: two days are 172800000 ms\n' });
    // The same delivery again builds nothing.
    expect((await post(signature)).status).toBe(200);
  }, 400_000);
});
