import type { tasksV1 } from '@wharf/contracts';
import { WharfError } from '@wharf/errors';
import { ConcurrencyError, type EventStore } from '@wharf/event-store';
import type { Logger } from '@wharf/logging';
import type { MqTask } from '@wharf/mq-client';
import { taskHeader } from '@wharf/tasks';
import type { Narrator } from '../adapters/operation-narrator';
import type { Fleet } from '../domain/fleet';
import { intentOf, type IntentSettings } from '../domain/intents';
import { placesNewReplicas, type PlacementGate } from '../domain/placement-gate';
import { decodeAnyTask } from './task-decoding';

export interface FleetView {
  readonly state: Fleet;
  waitFor(position: string, timeoutMs?: number): Promise<void>;
}

const ATTEMPTS = 5;

/**
 * One lifecycle task from mq: decoded and checked, turned into the events of what it asks for,
 * appended to the component's stream under the task's event_id (optimistic concurrency on the
 * version the fold shows), and acknowledged. The reconciler of whichever instance owns the
 * component does the work and reports it. A task that cannot be acted on (garbage, unknown
 * component, nothing to restart) is answered in event-log as failed and acknowledged: retrying
 * it could not help. Redelivered tasks are recognised by their event_id and add nothing. A task
 * that would place new replicas while no READY compute node is left is answered as failed too.
 */
export class TaskHandler {
  constructor(
    private readonly store: Pick<EventStore, 'append' | 'read' | 'version'>,
    private readonly fleet: FleetView,
    private readonly narrator: Narrator,
    private readonly settings: IntentSettings,
    private readonly logger: Logger,
    private readonly placement?: PlacementGate,
  ) {}

  async handle(task: MqTask): Promise<void> {
    let decoded: tasksV1.Task;
    try {
      decoded = decodeAnyTask(task.payload, task.topic);
    } catch (err) {
      this.logger.warn({ event_id: task.eventId, topic: task.topic, err: (err as Error).message }, 'task refused');
      // Without a readable header there is no component to name; event-log still learns why.
      if (task.eventId)
        this.narrator.answer({ eventId: task.eventId, kind: task.topic, componentId: '', tenantId: '' }, false, `task refused: ${(err as Error).message}`);
      return;
    }
    const h = taskHeader(decoded);
    const op = { eventId: h.eventId, kind: h.kind, componentId: h.componentId, tenantId: h.tenantId };
    const stream = `component/${h.componentId}`;
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      // Read our own writes: the fold must show the stream as it is now.
      const version = await this.store.version(stream);
      if (version > 0) {
        const [last] = await this.store.read(stream, version, 1);
        if (last) await this.fleet.waitFor(last.position, 10_000);
      }
      const record = this.fleet.state.get(h.componentId);
      if (!record || record.tenantId !== h.tenantId) {
        this.narrator.answer(op, false, `component ${h.componentId} does not exist in tenant ${h.tenantId}`);
        return;
      }
      // No READY compute node (e.g. the Docker host cordoned): refuse what would place new replicas; running ones stay.
      if (this.placement && placesNewReplicas(decoded, record)) {
        const blocker = await this.placement.blocker(record.spec.placement);
        if (blocker) {
          this.logger.info({ event_id: h.eventId, kind: h.kind, component: h.componentId, reason: blocker }, 'task refused: no node to place replicas on');
          this.narrator.answer(op, false, `${h.kind} refused: ${blocker}`);
          return;
        }
      }
      let intent;
      try {
        intent = intentOf(decoded, record, this.settings);
      } catch (err) {
        if (!(err instanceof WharfError)) throw err;
        this.narrator.answer(op, false, err.message);
        return;
      }
      if (intent.duplicate) return;
      try {
        await this.store.append(
          stream,
          intent.events.map((message) => ({ message, eventId: h.eventId, actor: 'service:app-manager' })),
          record.streamVersion,
        );
      } catch (err) {
        if (err instanceof ConcurrencyError && attempt < ATTEMPTS) continue; // someone appended meanwhile: look again
        throw err;
      }
      if (intent.immediate) this.narrator.answer(op, intent.immediate.ok, intent.immediate.message);
      this.logger.info({ event_id: h.eventId, kind: h.kind, component: h.componentId }, 'task accepted');
      return;
    }
  }
}
