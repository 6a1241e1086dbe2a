import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { eventlogV1, eventsV1, tasksV1 } from '@wharf/contracts';
import { createEtcdClient, type Etcd3 } from '@wharf/etcd';
import { EtcdEventStore } from '@wharf/event-store';
import { createClient, type ServiceClient } from '@wharf/grpc';
import type { mqV1 } from '@wharf/contracts';
import { encodeTask, makeTask } from '@wharf/tasks';
import {
  dockerClient,
  freePort,
  clientSecurity,
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
  type RunningBuilder,
  type RunningEventLog,
  type RunningMq,
} from '@wharf/testing';
import type Docker from 'dockerode';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** test/fixtures at the repository's root. */
export const FIXTURES = join(__dirname, '..', '..', '..', 'test', 'fixtures');

/**
 * Stack images are shared by every test run on the engine (built once, by tag): a fixed work
 * directory lets builders of concurrent test files wait for one maker instead of making twice.
 */
export const SHARED_WORK_DIR = '/var/tmp/wharf-builder-test';

export interface Timeline {
  info?: eventlogV1.OperationInfo;
  entries: eventlogV1.Entry[];
  lines: string[];
  /** step -> started/ok/failed (message) */
  steps: Map<string, { started: boolean; status?: 'success' | 'failure'; message?: string }>;
  /**
   * The whole history up to the final status was read: event-log answers an operation's final
   * status as soon as it decides it, before the entries leading to it (and its final entry) are
   * durable and readable, and `more` is false then; its final entry comes last of them.
   */
  complete: boolean;
}

/**
 * The real components a build needs, each a process on free 127.0.0.1 ports: etcd, mq,
 * event-log, the data center's registry (htpasswd), a git daemon; and builder processes.
 */
export class BuildWorld {
  etcd!: EtcdInstance;
  etcdClient!: Etcd3;
  store!: EtcdEventStore;
  mq!: RunningMq;
  eventLog!: RunningEventLog;
  eventLogClient!: ServiceClient<typeof eventlogV1.EventLogService>;
  registry!: RegistryInstance;
  git!: GitDaemon;
  docker: Docker = dockerClient();
  readonly builders: RunningBuilder[] = [];
  private dataDir!: string;
  private readonly containers: string[] = [];
  private readonly images = new Set<string>();
  private seq = 0;

  async start(): Promise<void> {
    this.etcd = await startEtcd();
    this.etcdClient = createEtcdClient({ endpoints: [this.etcd.endpoint], security: this.etcd.security });
    this.store = new EtcdEventStore({ client: this.etcdClient });
    this.dataDir = mkdtempSync(join(tmpdir(), 'wharf-builder-it-'));
    [this.mq, this.eventLog, this.registry, this.git] = await Promise.all([
      startMq(this.etcd),
      startEventLog(this.etcd, join(this.dataDir, 'eventlog')),
      startRegistry(),
      startGitDaemon(),
    ]);
    // Reads timelines as the operator does (the method table admits admin to Read).
    this.eventLogClient = createClient(eventlogV1.EventLogService, this.eventLog.grpc, { security: clientSecurity(this.etcd, 'admin') });
  }

  /** The environment of a builder process of this world. */
  builderEnv(extra: Record<string, string> = {}): Record<string, string> {
    return {
      WHARF_MQ_ADDR: this.mq.grpc,
      WHARF_EVENTLOG_ADDR: this.eventLog.grpc,
      WHARF_BUILDER_REGISTRY: this.registry.address,
      WHARF_BUILDER_REGISTRY_USERNAME: this.registry.username,
      WHARF_BUILDER_REGISTRY_PASSWORD: this.registry.password,
      WHARF_BUILDER_WORK_DIR: SHARED_WORK_DIR,
      WHARF_SECRET_KEY: 'cd'.repeat(32),
      WHARF_LOG_LEVEL: 'warn',
      ...extra,
    };
  }

  async startBuilder(extra: Record<string, string> = {}): Promise<RunningBuilder> {
    const b = await startBuilder(this.etcd, this.builderEnv(extra));
    this.builders.push(b);
    return b;
  }

  private apiMq?: ServiceClient<typeof mqV1.MqService>;
  /** mq as api-gateway calls it (the method table admits api-gateway and builder to Enqueue). */
  apiGatewayMq(): ServiceClient<typeof mqV1.MqService> {
    return (this.apiMq ??= this.mq.clientAs('api-gateway'));
  }

  /** A component stream as api-gateway writes it. */
  async createComponent(tenantId: string, name: string, port = 8080): Promise<string> {
    const componentId = `${tenantId}.app.${name}`;
    await this.store.append(
      `component/${componentId}`,
      [
        {
          message: create(eventsV1.ComponentCreatedSchema, {
            componentId,
            appId: `${tenantId}.app`,
            tenantId,
            spec: { name, ports: [{ port, protocol: 'http' }] },
          }),
        },
      ],
      0,
    );
    return componentId;
  }

  /** Requests a build as api-gateway does: OperationRequested on the component's stream, then the task on mq. */
  async requestBuild(
    tenantId: string,
    componentId: string,
    source: MessageInitShape<typeof tasksV1.BuildSourceSchema>,
    more: { deployAfter?: boolean; options?: MessageInitShape<typeof tasksV1.BuildOptionsSchema> } = {},
  ): Promise<string> {
    const eventId = `evt-${process.pid}-${Date.now().toString(36)}-${++this.seq}`;
    const task = makeTask('build', { eventId, tenantId, componentId, source, ...more });
    await this.store.append(
      `component/${componentId}`,
      [
        {
          message: create(eventsV1.OperationRequestedSchema, {
            eventId,
            kind: eventsV1.OperationKind.BUILD,
            target: `component/${componentId}`,
            tenantId,
            task,
          }),
          eventId,
        },
      ],
      'any',
    );
    await this.apiGatewayMq().enqueue({ topic: 'build', taskId: eventId, eventId, payload: encodeTask(task) });
    return eventId;
  }

  gitSource(
    repo: string,
    more: { branch?: string; subDir?: string; dockerfile?: string; url?: string } = {},
  ): MessageInitShape<typeof tasksV1.BuildSourceSchema> {
    return { kind: { case: 'git', value: { url: this.git.url(repo), branch: 'main', ...more } } };
  }

  async versions(componentId: string): Promise<eventsV1.VersionRecorded[]> {
    const events = await this.store.read(`component/${componentId}`);
    return events.filter((e) => e.type === 'wharf.events.v1.VersionRecorded').map((e) => e.message as eventsV1.VersionRecorded);
  }

  async timeline(eventId: string): Promise<Timeline> {
    const entries: eventlogV1.Entry[] = [];
    let info: eventlogV1.OperationInfo | undefined;
    let after = 0n;
    for (let page = 0; page < 100; page++) {
      const res = await this.eventLogClient.read({ eventId, afterSeq: after, limit: 5000 });
      info = res.operation;
      entries.push(...res.entries);
      if (!res.more || res.entries.length === 0) break;
      after = res.nextAfterSeq;
    }
    const lines: string[] = [];
    const steps: Timeline['steps'] = new Map();
    let decided = false;
    for (const e of entries) {
      const b = e.body;
      // Steps as event-log decided on them: a delivery of the task after the decision (a late
      // redelivery finding its version recorded) restarts steps the decision already counted.
      if (b.case === 'final') decided = true;
      if (b.case === 'line') lines.push(b.value.text);
      if (decided) continue;
      if (b.case === 'stepStarted') steps.set(b.value.step, { started: true });
      else if (b.case === 'stepFinished')
        steps.set(b.value.step, { started: true, status: b.value.status === eventlogV1.StepStatus.SUCCESS ? 'success' : 'failure', message: b.value.message });
    }
    return { info, entries, lines, steps, complete: decided };
  }

  /** Writes a timeline's lines to $WHARF_TEST_DUMP (diagnosis of a failing test). */
  dump(t: Timeline): void {
    if (process.env.WHARF_TEST_DUMP) writeFileSync(process.env.WHARF_TEST_DUMP, t.lines.join('\n') + '\n', { flag: 'a' });
  }

  /** Waits until event-log decided the operation's final status. */
  async finished(eventId: string, timeoutMs = 240_000): Promise<Timeline> {
    return waitFor(
      `final status of ${eventId}`,
      async () => {
        const t = await this.timeline(eventId).catch(() => undefined);
        const s = t?.info?.status;
        // The final status counts once the whole history up to it is read.
        return t?.complete &&
          s !== undefined &&
          s !== eventsV1.OperationStatus.UNSPECIFIED &&
          s !== eventsV1.OperationStatus.PENDING &&
          s !== eventsV1.OperationStatus.RUNNING
          ? t
          : undefined;
      },
      timeoutMs,
      250,
    );
  }

  /** Pulls a pushed version from the registry, runs it on the engine (port on 127.0.0.1) and answers GET / . */
  async run(image: string, port = 8080, path = '/'): Promise<{ status: number; body: string }> {
    const stream = (await this.docker.pull(image, {
      authconfig: { username: this.registry.username, password: this.registry.password, serveraddress: this.registry.address },
    })) as NodeJS.ReadableStream;
    await new Promise<void>((resolve, reject) => this.docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())));
    this.images.add(image);
    const hostPort = await freePort();
    const container = await this.docker.createContainer({
      Image: image,
      Env: [`PORT=${port}`],
      Labels: { 'org.wharf.test': 'builder' },
      HostConfig: { PortBindings: { [`${port}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: String(hostPort) }] } },
      ExposedPorts: { [`${port}/tcp`]: {} },
    });
    this.containers.push(container.id);
    await container.start();
    return waitFor(
      `${image} answering on 127.0.0.1:${hostPort}`,
      async () => {
        const res = await fetch(`http://127.0.0.1:${hostPort}${path}`, { signal: AbortSignal.timeout(2000) });
        return { status: res.status, body: await res.text() };
      },
      60_000,
      200,
    );
  }

  /** Tags of a repository in a registry (registry API v2), [] when it has none. */
  async tags(repository: string, registry: RegistryInstance = this.registry): Promise<string[]> {
    const res = await fetch(`http://${registry.address}/v2/${repository}/tags/list`, {
      headers: { authorization: `Basic ${Buffer.from(`${registry.username}:${registry.password}`).toString('base64')}` },
    });
    if (res.status === 404) return [];
    if (!res.ok) throw new Error(`tags of ${repository}: HTTP ${res.status}`);
    return ((await res.json()) as { tags?: string[] | null }).tags ?? [];
  }

  /** Whether a BuildKit vertex whose name matches came from the cache, read from the build's output lines. */
  static cached(lines: string[], instruction: RegExp): boolean {
    const header = lines.map((l) => /^#(\d+) (.*)$/.exec(l)).find((m) => m && instruction.test(m[2]));
    if (!header) throw new Error(`no BuildKit step matching ${instruction} in the log`);
    return lines.includes(`#${header[1]} CACHED`);
  }

  /** Image name of a version (repository without the tag) pinned to its digest. */
  static pinned(v: eventsV1.VersionRecorded): string {
    return `${v.image.slice(0, v.image.lastIndexOf(':'))}@${v.digest}`;
  }

  /** Tags a test image and pushes it to a registry (for image-source builds). */
  async pushTestImage(localTag: string, registry: RegistryInstance, repository: string, tag: string): Promise<string> {
    const ref = `${registry.address}/${repository}:${tag}`;
    await this.docker.getImage(localTag).tag({ repo: `${registry.address}/${repository}`, tag });
    const stream = (await this.docker
      .getImage(ref)
      .push({ authconfig: { username: registry.username, password: registry.password, serveraddress: registry.address } })) as NodeJS.ReadableStream;
    await new Promise<void>((resolve, reject) => this.docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())));
    this.images.add(ref);
    return ref;
  }

  forgetImage(ref: string): void {
    this.images.add(ref);
  }

  async stop(): Promise<void> {
    if (process.env.WHARF_TEST_DUMP)
      for (const b of this.builders) writeFileSync(process.env.WHARF_TEST_DUMP, `--- builder ${b.process.pid}\n${b.process.output()}\n`, { flag: 'a' });
    for (const id of this.containers)
      await this.docker
        .getContainer(id)
        .remove({ force: true })
        .catch(() => undefined);
    for (const ref of this.images)
      await this.docker
        .getImage(ref)
        .remove({ force: true })
        .catch(() => undefined);
    await Promise.allSettled(this.builders.map((b) => b.stop()));
    this.eventLogClient?.close();
    await Promise.allSettled([this.mq?.stop(), this.eventLog?.stop(), this.registry?.destroy(), this.git?.stop()]);
    this.etcdClient?.close();
    await this.etcd?.destroy();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
