import { create, toBinary } from '@bufbuild/protobuf';
import { eventsV1, tasksV1 } from '@wharf/contracts';
import { FailedPreconditionError, invalidArgument, NotFoundError } from '@wharf/errors';
import type { EventStore } from '@wharf/event-store';
import type { Principal } from '@wharf/identity';
import {
  assertNodeId,
  assertNodeTaskName,
  nodeTaskStream,
  nodeTaskTopic,
  validateLabels,
  validateRoles,
  type NodeDirectory,
  type NodeView,
} from '@wharf/nodes';
import type { GatewayContext } from './gateway-context';
import type { StepSource, StepView } from './steps';
import type { TaskDispatcher } from './task-dispatcher';
import { nodeView } from './views/node.view';

/** What an administrator may ask of a node: the lifecycle moves that are theirs. */
export const ADMIN_NODE_ACTIONS = ['cordon', 'uncordon', 'repair', 'offline'] as const;
export type AdminNodeAction = (typeof ADMIN_NODE_ACTIONS)[number];

export const MAX_TASK_NODES = 100;

/**
 * The data center's machines, for administrators only: list and read them (state from the
 * node/<id> streams, capacity, use and conditions from the heartbeats), move them through the
 * lifecycle, set labels and roles, and run node tasks (one step per node in event-log).
 * Everything is checked before anything is written: a bad label, an unknown node or an
 * OFFLINE one in a task changes nothing.
 */
export class NodesService {
  constructor(
    private readonly ctx: GatewayContext,
    private readonly nodes: Pick<NodeDirectory, 'list' | 'get' | 'change' | 'setLabels' | 'setRoles'>,
    private readonly store: Pick<EventStore, 'read'>,
    private readonly tasks: Pick<TaskDispatcher, 'send'>,
    private readonly steps: StepSource | null,
  ) {}

  requireAdmin(p: Principal): void {
    this.ctx.requireAdmin(p);
  }

  async list(p: Principal) {
    this.ctx.requireAdmin(p);
    const now = this.ctx.clock.now();
    return { items: (await this.nodes.list()).map((n) => nodeView(n, now)) };
  }

  async get(p: Principal, nodeId: string) {
    this.ctx.requireAdmin(p);
    return nodeView(await this.nodes.get(assertNodeId(nodeId)), this.ctx.clock.now());
  }

  async changeState(p: Principal, nodeId: string, action: AdminNodeAction, reason: string | undefined, ifMatch?: number) {
    this.ctx.requireAdmin(p);
    assertNodeId(nodeId);
    await this.nodes.change(nodeId, action, {
      reason: reason || `${action} by ${p.user.id}`,
      actor: `user:${p.user.id}`,
      expectedVersion: ifMatch,
    });
    return this.get(p, nodeId);
  }

  async setLabels(p: Principal, nodeId: string, labels: Record<string, unknown>, ifMatch?: number) {
    this.ctx.requireAdmin(p);
    assertNodeId(nodeId);
    const valid = validateLabels(labels);
    await this.nodes.setLabels(nodeId, valid, { actor: `user:${p.user.id}`, expectedVersion: ifMatch });
    return this.get(p, nodeId);
  }

  async setRoles(p: Principal, nodeId: string, roles: unknown[], ifMatch?: number) {
    this.ctx.requireAdmin(p);
    assertNodeId(nodeId);
    const valid = validateRoles(roles);
    await this.nodes.setRoles(nodeId, valid, { actor: `user:${p.user.id}`, expectedVersion: ifMatch });
    return this.get(p, nodeId);
  }

  /**
   * 202 {event_id}: the task for every node, after every node was checked (it exists, is not
   * OFFLINE, and its node-manager is reporting). The request is in node-task/<event_id>
   * (OperationRequested + NodeTaskRequested), then one mq task per node on its own topic.
   */
  async runTask(p: Principal, taskName: unknown, nodeIds: string[]) {
    this.ctx.requireAdmin(p);
    const task = assertNodeTaskName(taskName);
    if (nodeIds.length === 0) throw invalidArgument('nodes', 'name at least one node');
    if (nodeIds.length > MAX_TASK_NODES) throw invalidArgument('nodes', `at most ${MAX_TASK_NODES} nodes per task`);
    const ids = [...new Set(nodeIds)];
    ids.forEach((id, i) => assertNodeId(id, `nodes[${i}]`));
    const known = new Map((await this.nodes.list()).map((n) => [n.record.id, n] as const));
    const missing = ids.filter((id) => !known.has(id));
    if (missing.length) throw new NotFoundError(`no such node: ${missing.join(', ')}`, { field: 'nodes' });
    const offline = ids.filter((id) => known.get(id)!.record.state === 'OFFLINE');
    if (offline.length)
      throw new FailedPreconditionError(`node ${offline.join(', ')} is OFFLINE: an OFFLINE node runs no tasks`, { reason: 'node_offline', field: 'nodes' });
    const silent = ids.filter((id) => !known.get(id)!.heartbeat);
    if (silent.length)
      throw new FailedPreconditionError(`node ${silent.join(', ')} is not reporting (no heartbeat): its node-manager cannot run the task`, {
        reason: 'node_silent',
        field: 'nodes',
      });

    const eventId = `evt-${this.ctx.ids.uuid()}`;
    const stream = nodeTaskStream(eventId);
    await this.ctx.append(
      stream,
      [
        create(eventsV1.OperationRequestedSchema, { eventId, kind: eventsV1.OperationKind.NODE_TASK, target: stream, tenantId: '' }),
        create(eventsV1.NodeTaskRequestedSchema, { eventId, task, nodeIds: ids }),
      ],
      0,
      p,
      eventId,
    );
    // The request is durable now: a node's task mq did not take is retried by the dispatcher
    // until it does (or the operation ends, e.g. event-log times it out), not failed back.
    const unqueued: string[] = [];
    for (const nodeId of ids) {
      const payload = toBinary(tasksV1.NodeTaskSchema, create(tasksV1.NodeTaskSchema, { eventId, nodeId, task, nodeIds: ids }));
      if (!(await this.tasks.send(nodeTaskTopic(nodeId), eventId, payload))) unqueued.push(nodeId);
    }
    return { event_id: eventId, task, nodes: ids, ...(unqueued.length ? { retrying: unqueued } : {}) };
  }

  /** A node task: what was asked, its status (event-log decides it) and one step per node. */
  async getTask(p: Principal, eventId: string) {
    this.ctx.requireAdmin(p);
    const events = await this.store.read(nodeTaskStream(eventId));
    const requested = events.find((e) => e.type === 'wharf.events.v1.NodeTaskRequested')?.message as eventsV1.NodeTaskRequested | undefined;
    if (!requested) throw new NotFoundError(`node task ${eventId} not found`);
    const op = this.ctx.catalog.operations.get(eventId);
    let steps: StepView[] | null = [];
    let stepsError: string | undefined;
    if (this.steps) {
      try {
        steps = await this.steps.steps(eventId);
      } catch (err) {
        steps = null;
        stepsError = `event-log did not answer: ${(err as Error).message}`;
      }
    } else stepsError = 'no event-log configured (WHARF_EVENTLOG_ADDR)';
    return {
      event_id: eventId,
      task: requested.task,
      nodes: requested.nodeIds,
      status: op?.status ?? 'pending',
      message: op?.message || null,
      reported: events
        .filter((e) => e.type === 'wharf.events.v1.NodeTaskReported')
        .map((e) => {
          const r = e.message as eventsV1.NodeTaskReported;
          return { node: r.nodeId, succeeded: r.succeeded, message: r.message || null };
        }),
      steps,
      ...(stepsError ? { steps_error: stepsError } : {}),
    };
  }
}

export type { NodeView };
