import { create, fromBinary } from '@bufbuild/protobuf';
import { eventsV1, tasksV1 } from '@wharf/contracts';
import { ConcurrencyError, type EventStore } from '@wharf/event-store';
import type { EventLogClient, StepReporter } from '@wharf/event-log-client';
import type { Logger } from '@wharf/logging';
import type { MqTask } from '@wharf/mq-client';
import { isNodeTaskName, nodeTaskStep, nodeTaskStream, type NodeDirectory, type NodeTaskName } from '@wharf/nodes';
import type { KubernetesNodes } from '@wharf/runtime';
import type { DockerEngine } from '../adapters/docker-engine.adapter';
import type { Machine } from '../adapters/machine.adapter';
import type { NodeAgent } from '../agent/node-agent';

const GiB = 1024 ** 3;
const size = (bytes: number) => (bytes >= GiB ? `${(bytes / GiB).toFixed(2)} GiB` : `${(bytes / 1024 ** 2).toFixed(1)} MiB`);

/**
 * Runs this node's tasks (topic node-task.<node id>): one step "node <id>" in event-log under
 * the task's event_id, its lines, ok or failed; then NodeTaskReported in node-task/<event_id>.
 * The node-manager whose report completes the set tells event-log the operation is done. A
 * redelivered task whose report is already in the stream is not run again.
 */
export class NodeTaskRunner {
  constructor(
    private readonly nodeId: string,
    private readonly dataCenter: string,
    private readonly directory: NodeDirectory,
    private readonly store: Pick<EventStore, 'append' | 'read'>,
    private readonly eventLog: EventLogClient,
    private readonly engine: DockerEngine,
    private readonly machine: Machine,
    private readonly agent: NodeAgent,
    private readonly logger: Logger,
    /** On Kubernetes: the node's pods come from the API server, not a Docker Engine. */
    private readonly kube?: Pick<KubernetesNodes, 'podsOn'>,
  ) {}

  async handle(task: MqTask): Promise<void> {
    let t: tasksV1.NodeTask;
    try {
      t = fromBinary(tasksV1.NodeTaskSchema, task.payload);
    } catch (err) {
      this.logger.warn({ task: task.taskId, err: (err as Error).message }, 'node task refused: not a NodeTask');
      return;
    }
    const eventId = t.eventId || task.eventId;
    if (!eventId) return;
    const stream = nodeTaskStream(eventId);
    if (
      (await this.store.read(stream)).some(
        (e) => e.type === 'wharf.events.v1.NodeTaskReported' && (e.message as eventsV1.NodeTaskReported).nodeId === this.nodeId,
      )
    )
      return;
    const op = this.eventLog.operation(eventId, { target: stream });
    const step = op.step(nodeTaskStep(this.nodeId));
    let ok = true;
    let message = '';
    try {
      if (t.nodeId !== this.nodeId) throw new Error(`task for node ${t.nodeId} reached node ${this.nodeId}`);
      const record = await this.directory.record(this.nodeId);
      if (record?.state === 'OFFLINE') throw new Error(`node ${this.nodeId} is OFFLINE: it runs no tasks`);
      if (!isNodeTaskName(t.task)) throw new Error(`${JSON.stringify(t.task)} is no node task`);
      await this.run(t.task, step);
      step.ok();
    } catch (err) {
      ok = false;
      message = (err as Error).message;
      step.fail(message);
    }
    // The step is on event-log's disk before the report says so, so "done" never overtakes it.
    await this.eventLog.flush();
    const all = await this.report(stream, create(eventsV1.NodeTaskReportedSchema, { eventId, nodeId: this.nodeId, succeeded: ok, message }), t.nodeIds);
    if (all) {
      op.done();
      await this.eventLog.flush();
    }
    this.logger.info({ event_id: eventId, task: t.task, ok }, 'node task ran');
  }

  /** Appends this node's report; true when every node of the task has reported now. */
  private async report(stream: string, message: eventsV1.NodeTaskReported, nodeIds: string[]): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      const events = await this.store.read(stream);
      try {
        await this.store.append(
          stream,
          [{ message, eventId: message.eventId, actor: 'service:node-manager' }],
          events.length ? events[events.length - 1].version : 0,
        );
      } catch (err) {
        if (err instanceof ConcurrencyError && attempt < 20) continue;
        throw err;
      }
      const reported = new Set(events.filter((e) => e.type === 'wharf.events.v1.NodeTaskReported').map((e) => (e.message as eventsV1.NodeTaskReported).nodeId));
      reported.add(this.nodeId);
      return nodeIds.every((id) => reported.has(id));
    }
  }

  private async run(name: NodeTaskName, step: StepReporter): Promise<void> {
    switch (name) {
      case 'disk-usage': {
        const m = await this.machine.read();
        if ('error' in m.disk) throw new Error(m.disk.error);
        const used = m.disk.totalBytes - m.disk.availableBytes;
        step.line(
          `${m.disk.path}: ${size(used)} used of ${size(m.disk.totalBytes)}, ${size(m.disk.availableBytes)} free (${((used / m.disk.totalBytes) * 100).toFixed(1)}%)`,
        );
        // The filesystem is the answer; the Engine's breakdown is extra, and its own errors (a build cache
        // it cannot measure) are shown, not a failed task.
        if (this.kube) return;
        try {
          const df = await this.engine.diskUsage();
          step.line(
            `Docker Engine: ${Object.entries(df)
              .map(([k, v]) => `${k} ${size(v)}`)
              .join(', ')}`,
          );
        } catch (err) {
          step.line(`Docker Engine disk usage unavailable: ${(err as Error).message.trim()}`, 'warn');
        }
        return;
      }
      case 'container-list': {
        if (this.kube) {
          const pods = await this.kube.podsOn(this.nodeId);
          step.line(`${pods.length} pods on Kubernetes node ${this.nodeId}`);
          for (const p of pods) step.line(`${p.namespace}/${p.name}  ${p.phase}${p.ready ? '  ready' : ''}${p.terminating ? '  terminating' : ''}`);
          return;
        }
        const list = await this.engine.containers(this.dataCenter);
        step.line(`${list.length} containers of data center ${this.dataCenter}`);
        for (const c of list) step.line(`${c.name}  ${c.image}  ${c.state}  ${c.status}`);
        return;
      }
      case 'prune-images': {
        if (this.kube) throw new Error("on Kubernetes the kubelet's image garbage collection prunes a node's images; node-manager does not");
        for (const r of await this.engine.pruneWharfImages(this.dataCenter))
          step.line(`dangling images labelled ${r.label}: ${r.deleted} removed, ${size(r.reclaimedBytes)} reclaimed`);
        return;
      }
      case 'health-check': {
        await this.agent.round();
        const bad = this.agent.conditions.filter((c) => !c.ok);
        for (const c of this.agent.conditions) step.line(`${c.type}: ${c.ok ? 'ok' : 'FAILING'}: ${c.message}`, c.ok ? 'info' : 'warn');
        if (bad.length) throw new Error(`failing: ${bad.map((c) => c.type).join(', ')}`);
        return;
      }
    }
  }
}
