import { create } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import { createEtcdClient, KeyLayout, type Etcd3 } from '@wharf/etcd';
import { EtcdEventStore } from '@wharf/event-store';
import {
  dockerClient,
  httpTestImage,
  startApiGateway,
  startAppManager,
  startEtcd,
  startEventLog,
  startMq,
  startNodeManager,
  waitFor,
  type EtcdInstance,
  type RunningApiGateway,
  type RunningAppManager,
  type RunningEventLog,
  type RunningMq,
  type RunningNodeManager,
} from '@wharf/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A tiny JSON client over fetch. */
function api(base: string, token?: string) {
  return async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
}

// The Docker data center end to end: the machine is its one node (node-manager), cordoning it
// through the API makes the next deploy fail saying why while the running replica stays, and a
// node task runs on it with its step in event-log.
describe('Docker: the host as the one node, cordon, node tasks', () => {
  const dataCenter = `dn${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
  const image = `wharf-test/nm-${process.pid}-web:1`;
  const docker = dockerClient();
  let etcd: EtcdInstance;
  let mq: RunningMq;
  let eventLog: RunningEventLog;
  let appManager: RunningAppManager;
  let gateway: RunningApiGateway;
  let node: RunningNodeManager;
  let raw: Etcd3;
  let call: ReturnType<typeof api>;
  let dir: string;

  const finalOf = (eventId: string) =>
    waitFor(
      `operation ${eventId} final`,
      async () => {
        const r = await call('GET', `/api/v1/tenants/acme/operations/${eventId}`);
        return r.body.status === 'success' || r.body.status === 'failure' ? r.body : undefined;
      },
      60_000,
      200,
    );
  const containers = () => docker.listContainers({ filters: { label: [`wharf/data-center=${dataCenter}`] } });

  beforeAll(async () => {
    await httpTestImage(docker, image, 'hello node');
    etcd = await startEtcd();
    mq = await startMq(etcd);
    dir = mkdtempSync(join(tmpdir(), 'wharf-nm-eventlog-'));
    eventLog = await startEventLog(etcd, dir, { WHARF_DATA_CENTER: dataCenter });
    const common = { WHARF_DATA_CENTER: dataCenter, WHARF_MQ_ADDR: mq.grpc, WHARF_EVENTLOG_ADDR: eventLog.grpc };
    node = await startNodeManager(etcd, 'host', { ...common, WHARF_NODE_REPORT_MS: '300' });
    appManager = await startAppManager(etcd, mq.grpc, eventLog.grpc, {
      WHARF_DATA_CENTER: dataCenter,
      WHARF_DOCKER_NAME_PREFIX: dataCenter,
      WHARF_APPMGR_DRAIN_MS: '200',
    });
    gateway = await startApiGateway(etcd, mq.grpc, { WHARF_EVENTLOG_ADDR: eventLog.grpc });
    call = api(gateway.url, gateway.adminToken);
    raw = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
  }, 120_000);
  afterAll(async () => {
    await gateway?.stop();
    await appManager?.stop();
    await node?.stop();
    await eventLog?.stop();
    await mq?.stop();
    raw?.close();
    await etcd?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
    for (const c of await docker.listContainers({ all: true, filters: { label: [`wharf/data-center=${dataCenter}`] } }).catch(() => []))
      await docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined);
    await docker
      .getImage(image)
      .remove({ force: true })
      .catch(() => undefined);
  });

  it('refuses a new deploy on a cordoned host, saying so, and leaves the running replica alone', async () => {
    await waitFor('host READY', async () => ((await call('GET', '/api/v1/nodes/host')).body.state === 'READY' ? true : undefined), 20_000, 100);
    expect((await call('POST', '/api/v1/tenants', { name: 'acme' })).status).toBe(201);
    expect((await call('POST', '/api/v1/tenants/acme/apps', { name: 'shop' })).status).toBe(201);
    const created = await call('POST', '/api/v1/tenants/acme/apps/acme.shop/components', {
      name: 'web',
      source: { image },
      ports: [{ port: 8080, protocol: 'http' }],
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    // The builder's part, as it records it.
    await new EtcdEventStore({ client: raw, keys: new KeyLayout() }).append(
      `component/${id}`,
      [{ message: create(eventsV1.VersionRecordedSchema, { componentId: id, versionId: 'v1', image, status: 'success' }) }],
      'any',
    );
    const first = await call('POST', `/api/v1/tenants/acme/components/${id}/operations`, { kind: 'deploy', version_id: 'v1' });
    expect(first.status).toBe(202);
    expect(await finalOf(first.body.event_id)).toMatchObject({ status: 'success' });
    const before = (await containers()).map((c) => c.Id);
    expect(before).toHaveLength(1);

    const cordoned = await call('POST', '/api/v1/nodes/host/state', { action: 'cordon', reason: 'maintenance' });
    expect(cordoned.status).toBe(200);
    expect(cordoned.body).toMatchObject({ state: 'INITED', cordoned: true });
    const second = await call('POST', `/api/v1/tenants/acme/components/${id}/operations`, { kind: 'restart' });
    expect(second.status).toBe(202);
    const refused = await finalOf(second.body.event_id);
    expect(refused.status).toBe('failure');
    expect(refused.message).toContain('no READY compute node is left (host INITED (cordoned))');
    // The running replica is untouched, and keeps answering.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await containers()).map((c) => c.Id)).toEqual(before);
    // node-manager does not take a cordoned node online by itself.
    expect((await call('GET', '/api/v1/nodes/host')).body.state).toBe('INITED');

    expect((await call('POST', '/api/v1/nodes/host/state', { action: 'uncordon' })).body.state).toBe('READY');
    const third = await call('POST', `/api/v1/tenants/acme/components/${id}/operations`, { kind: 'restart' });
    expect(await finalOf(third.body.event_id)).toMatchObject({ status: 'success' });
  });

  it('runs a node task on several nodes: one step per node in event-log, done once the last reports', async () => {
    // A second node (storage only, so placement is unchanged) with its own node-manager.
    const second = await startNodeManager(etcd, 'store-1', {
      WHARF_DATA_CENTER: dataCenter,
      WHARF_MQ_ADDR: mq.grpc,
      WHARF_EVENTLOG_ADDR: eventLog.grpc,
      WHARF_NODE_ROLES: 'storage',
      WHARF_NODE_REPORT_MS: '300',
    });
    try {
      await waitFor('store-1 READY', async () => ((await call('GET', '/api/v1/nodes/store-1')).body.state === 'READY' ? true : undefined), 20_000, 100);
      const accepted = await call('POST', '/api/v1/node-tasks', { task: 'disk-usage', nodes: ['host', 'store-1'] });
      expect(accepted.status).toBe(202);
      const task = await waitFor(
        'the two-node task final',
        async () => {
          const r = await call('GET', `/api/v1/node-tasks/${accepted.body.event_id}`);
          return r.body.status === 'success' || r.body.status === 'failure' ? r.body : undefined;
        },
        30_000,
        200,
      );
      if (task.status !== 'success') throw new Error(`node task failed: ${JSON.stringify(task)}`);
      expect(task.steps.map((s: { name: string; status: string }) => [s.name, s.status]).sort()).toEqual([
        ['node host', 'success'],
        ['node store-1', 'success'],
      ]);
      expect(task.reported.map((r: { node: string }) => r.node).sort()).toEqual(['host', 'store-1']);
    } finally {
      await second.stop();
    }
  });

  it('runs a node task on the host: one step per node in event-log, the operation done', async () => {
    const accepted = await call('POST', '/api/v1/node-tasks', { task: 'container-list', nodes: ['host'] });
    expect(accepted.status).toBe(202);
    const eventId = accepted.body.event_id as string;
    const task = await waitFor(
      'the node task final',
      async () => {
        const r = await call('GET', `/api/v1/node-tasks/${eventId}`);
        return r.body.status === 'success' || r.body.status === 'failure' ? r.body : undefined;
      },
      30_000,
      200,
    );
    expect(task).toMatchObject({ status: 'success', task: 'container-list', nodes: ['host'], reported: [{ node: 'host', succeeded: true, message: null }] });
    expect(task.steps.map((s: { name: string; status: string }) => [s.name, s.status])).toEqual([['node host', 'success']]);

    // prune-images touches only dangling images with a Wharf label: the test image (tagged) stays.
    const prune = await call('POST', '/api/v1/node-tasks', { task: 'prune-images', nodes: ['host'] });
    await waitFor(
      'prune final',
      async () => ((await call('GET', `/api/v1/node-tasks/${prune.body.event_id}`)).body.status === 'success' ? true : undefined),
      30_000,
      200,
    );
    expect((await docker.getImage(image).inspect()).RepoTags).toContain(image);
  });
});
