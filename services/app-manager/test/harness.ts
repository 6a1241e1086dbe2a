import { create, fromJsonString, type MessageInitShape } from '@bufbuild/protobuf';
import { appmanagerV1, eventlogV1, eventsV1, mqV1 } from '@wharf/contracts';
import { createEtcdClient, KeyLayout, type Etcd3 } from '@wharf/etcd';
import { EtcdEventStore } from '@wharf/event-store';
import { createClient, type ServiceClient } from '@wharf/grpc';
import { LABEL } from '@wharf/runtime';
import { encodeTask, makeTask, type TaskKind } from '@wharf/tasks';
import {
  dockerClient,
  startAppManager,
  startEtcd,
  startEventLog,
  startMq,
  waitFor,
  type EtcdInstance,
  type RunningAppManager,
  type RunningEventLog,
  type RunningMq,
  clientSecurity,
} from '@wharf/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A data center for app-manager's integration tests: real etcd, mq, event-log and app-manager
 * processes and the machine's Docker Engine, with a data-center id of its own so two test runs
 * on one engine never see each other's containers.
 */
export interface Stack {
  dataCenter: string;
  prefix: string;
  etcd: EtcdInstance;
  mq: RunningMq;
  eventLog: RunningEventLog;
  appManagers: RunningAppManager[];
  store: EtcdEventStore;
  client: Etcd3;
  keys: KeyLayout;
  log: ServiceClient<typeof eventlogV1.EventLogService>;
  env: Record<string, string>;
  startAppManager(extra?: Record<string, string>): Promise<RunningAppManager>;
  stop(): Promise<void>;
}

let stacks = 0;

export async function startStack(name: string, env: Record<string, string> = {}): Promise<Stack> {
  const dataCenter = `${name}-${process.pid.toString(36)}${(stacks++).toString(36)}${Date.now().toString(36).slice(-3)}`.slice(0, 40);
  const prefix = `t${dataCenter.replace(/[^a-z0-9]/g, '').slice(-12)}`;
  const etcd = await startEtcd();
  const mq = await startMq(etcd);
  const dir = mkdtempSync(join(tmpdir(), 'wharf-am-eventlog-'));
  const eventLog = await startEventLog(etcd, dir, { WHARF_DATA_CENTER: dataCenter });
  const client = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
  const keys = new KeyLayout();
  const stackEnv = {
    WHARF_DATA_CENTER: dataCenter,
    WHARF_DOCKER_NAME_PREFIX: prefix,
    WHARF_APPMGR_DRAIN_MS: '200',
    WHARF_APPMGR_STOP_GRACE_MS: '2000',
    WHARF_APPMGR_RESYNC_MS: '1000',
    WHARF_APPMGR_BACKOFF_BASE_MS: '200',
    WHARF_APPMGR_LEASE_TTL_S: '3',
    ...env,
  };
  const stack: Stack = {
    dataCenter,
    prefix,
    etcd,
    mq,
    eventLog,
    appManagers: [],
    store: new EtcdEventStore({ client, keys }),
    client,
    keys,
    log: createClient(eventlogV1.EventLogService, eventLog.grpc, { security: clientSecurity(etcd, 'admin') }),
    env: stackEnv,
    async startAppManager(extra = {}) {
      const am = await startAppManager(etcd, mq.grpc, eventLog.grpc, { ...stackEnv, ...extra });
      stack.appManagers.push(am);
      return am;
    },
    async stop() {
      for (const am of stack.appManagers) await am.stop('SIGKILL').catch(() => undefined);
      await removeDataCenter(dataCenter);
      stack.log.close();
      client.close();
      await eventLog.stop();
      await mq.stop();
      await etcd.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await stack.startAppManager();
  return stack;
}

/** Every container, volume and network of a test data center (and nothing else). */
export async function removeDataCenter(dataCenter: string): Promise<void> {
  const docker = dockerClient();
  const filters = { label: [`${LABEL.dataCenter}=${dataCenter}`] };
  for (const c of await docker.listContainers({ all: true, filters }))
    await docker
      .getContainer(c.Id)
      .remove({ force: true, v: true })
      .catch(() => undefined);
  for (const v of (await docker.listVolumes({ filters })).Volumes ?? [])
    await docker
      .getVolume(v.Name)
      .remove()
      .catch(() => undefined);
  for (const n of await docker.listNetworks({ filters }))
    await docker
      .getNetwork(n.Id)
      .remove()
      .catch(() => undefined);
}

/** A spec as plain init fields (never a built message, so specs can be spread together). */
export type SpecInit = Exclude<MessageInitShape<typeof eventsV1.ComponentSpecSchema>, eventsV1.ComponentSpec>;

/** A component as api-gateway would record it (and its versions, as the builder would). */
export async function createComponent(
  s: Stack,
  ids: { tenant: string; app?: string; name: string },
  spec: SpecInit,
  versions: { id: string; image: string }[],
): Promise<string> {
  const appId = `${ids.tenant}.${ids.app ?? 'shop'}`;
  const componentId = `${appId}.${ids.name}`;
  await s.store.append(
    `component/${componentId}`,
    [
      {
        message: create(eventsV1.ComponentCreatedSchema, {
          componentId,
          appId,
          tenantId: ids.tenant,
          spec: { replicas: 1, cpuMillis: 200, memoryMib: 64, ...spec, name: ids.name },
        }),
      },
      ...versions.map((v) => ({ message: create(eventsV1.VersionRecordedSchema, { componentId, versionId: v.id, image: v.image, status: 'success' }) })),
    ],
    0,
  );
  return componentId;
}

export async function updateSpec(s: Stack, componentId: string, spec: SpecInit): Promise<void> {
  await s.store.append(`component/${componentId}`, [{ message: create(eventsV1.ComponentUpdatedSchema, { componentId, spec }) }], 'any');
}

export async function recordVersion(s: Stack, componentId: string, id: string, image: string): Promise<void> {
  await s.store.append(
    `component/${componentId}`,
    [{ message: create(eventsV1.VersionRecordedSchema, { componentId, versionId: id, image, status: 'success' }) }],
    'any',
  );
}

let tasks = 0;

/** Enqueues a typed task as api-gateway does (task id = event id); returns the event id. */
export async function enqueue(s: Stack, kind: TaskKind, componentId: string, args: Record<string, unknown> = {}): Promise<string> {
  const eventId = `evt-${process.pid}-${Date.now().toString(36)}-${++tasks}`;
  const tenantId = componentId.split('.')[0];
  const task = makeTask(kind, { eventId, tenantId, componentId, ...args } as never);
  await s.mq.client.enqueue(create(mqV1.EnqueueRequestSchema, { topic: kind, taskId: eventId, eventId, payload: encodeTask(task) }));
  return eventId;
}

export interface Final {
  status: 'success' | 'failure' | 'timeout';
  message: string;
  failedStep: string;
  lines: string[];
}

const FINAL: Record<number, Final['status']> = {
  [eventsV1.OperationStatus.SUCCESS]: 'success',
  [eventsV1.OperationStatus.FAILURE]: 'failure',
  [eventsV1.OperationStatus.TIMEOUT]: 'timeout',
};

/** Waits for event-log's final status of an operation; with every line it logged. */
export async function finalStatus(s: Stack, eventId: string, timeoutMs = 60_000): Promise<Final> {
  return waitFor(
    `final status of ${eventId}`,
    async () => {
      // A final status can be known before the last entries are durable: `more` says so, and
      // the whole history is read before the status counts.
      const lines: string[] = [];
      let afterSeq = 0n;
      for (;;) {
        const res = await s.log.read(create(eventlogV1.ReadRequestSchema, { eventId, afterSeq, limit: 5000 }));
        const status = FINAL[res.operation?.status ?? 0];
        if (!status) return undefined;
        for (const e of res.entries) if (e.body.case === 'line') lines.push(e.body.value.text);
        if (!res.more) return { status, message: res.operation!.message, failedStep: res.operation!.failedStep, lines };
        if (res.entries.length === 0) return undefined;
        afterSeq = res.entries[res.entries.length - 1].seq;
      }
    },
    timeoutMs,
    100,
  );
}

export async function endpointsOf(s: Stack, componentId: string): Promise<appmanagerV1.ComponentEndpoints | undefined> {
  const json = await s.client.get(s.keys.endpoints.component(componentId)).string();
  return json ? fromJsonString(appmanagerV1.ComponentEndpointsSchema, json) : undefined;
}

export async function statusOf(s: Stack, componentId: string): Promise<appmanagerV1.ComponentStatus | undefined> {
  const json = await s.client.get(s.keys.appmgr.status(componentId)).string();
  return json ? fromJsonString(appmanagerV1.ComponentStatusSchema, json) : undefined;
}

/** GET http://address:port/ -> status and body ('' and 0 when nothing answers within 1 s). */
export function httpGet(address: string, port: number, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request({ host: address, port, path, timeout: 1000, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve({ status: 0, body: '' }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.end();
  });
}

/** The bodies every published endpoint answers with. */
export async function answers(s: Stack, componentId: string, port = 8080): Promise<string[]> {
  const e = await endpointsOf(s, componentId);
  const out: string[] = [];
  for (const ep of e?.endpoints ?? []) out.push((await httpGet(ep.address, port)).body.trim());
  return out;
}

/** The component's containers as the engine lists them (this data center only). */
export async function containersOf(s: Stack, componentId: string) {
  return dockerClient().listContainers({ all: true, filters: { label: [`${LABEL.dataCenter}=${s.dataCenter}`, `${LABEL.componentId}=${componentId}`] } });
}
