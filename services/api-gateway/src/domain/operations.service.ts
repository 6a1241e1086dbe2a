import { create } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import { ConflictError, NotFoundError } from '@wharf/errors';
import type { Principal } from '@wharf/identity';
import type { ComponentView } from './catalog';
import type { GatewayContext } from './gateway-context';
import { expectedVersion } from './if-match';
import { CONTROL_KINDS, kindValue } from './operation-kinds';
import { operationTask } from './operation-task';
import { mapPage, paginate, type PageQuery } from './pagination';
import type { OperationRequest } from './schemas';
import type { StepSource, StepView } from './steps';
import type { TaskDispatcher } from './task-dispatcher';
import { operationView } from './views/operation.view';

/**
 * Async actions: 202 {event_id}. The operation's first event (OperationRequested, with its
 * typed task) is appended to the component's stream, then the task goes to mq; one that
 * arrives while another has no final status waits behind it ("queue": true) or is 409.
 */
export class OperationsService {
  constructor(
    private readonly ctx: GatewayContext,
    private readonly tasks: TaskDispatcher,
    private readonly steps: StepSource | null,
  ) {}

  async requestOperation(p: Principal, tenantId: string, componentId: string, body: OperationRequest, ifMatch?: number) {
    const c = this.ctx.componentFor(p, tenantId, componentId, body.kind === 'delete' ? 'write' : 'operate');
    return this.startOperation(c, body, { principal: p, ifMatch });
  }

  /**
   * Accepts an operation on a component its caller was authorised for (requestOperation) or
   * that a verified webhook names: appends OperationRequested, then hands the task to mq.
   * `eventId` fixes the operation's id (a webhook delivery's, so a redelivery finds it);
   * `buildRef` builds that commit instead of the branch's head.
   */
  async startOperation(
    c: ComponentView,
    body: OperationRequest,
    by: { principal?: Principal; actor?: string; ifMatch?: number; eventId?: string; buildRef?: string },
  ): Promise<{ event_id: string; queued: boolean }> {
    const componentId = c.id;
    const expected = expectedVersion(`component ${componentId}`, c.version, by.ifMatch);
    const control = CONTROL_KINDS.has(body.kind);
    if (c.activeOperation && !control && !('queue' in body && body.queue))
      throw new ConflictError(`operation ${c.activeOperation} on component ${componentId} has no final status yet; pass "queue": true to run after it`, {
        reason: 'operation_running',
      });
    const eventId = by.eventId ?? `evt-${this.ctx.ids.uuid()}`;
    const tenantId = c.tenantId;
    const running = c.activeOperation ? this.ctx.catalog.operations.get(c.activeOperation) : undefined;
    const task = operationTask(body, { eventId, tenantId, componentId }, c, running, by.buildRef);
    const requested = create(eventsV1.OperationRequestedSchema, { eventId, kind: kindValue(body.kind), target: `component/${componentId}`, tenantId, task });
    await this.ctx.append(`component/${componentId}`, [requested], expected, by.principal ?? by.actor, eventId);
    // Queued behind a running operation: mq gets it when the catalog hands over (see app.module.ts).
    const op = this.ctx.catalog.operations.get(eventId);
    const queued = !control && this.ctx.catalog.components.get(componentId)?.activeOperation !== eventId;
    if (op && !queued) await this.tasks.dispatch(op);
    return { event_id: eventId, queued };
  }

  listOperations(p: Principal, tenantId: string, q: PageQuery & { status?: string; kind?: string }) {
    this.ctx.tenantFor(p, tenantId, 'read');
    const ops = [...this.ctx.catalog.operations.values()].filter(
      (o) => o.tenantId === tenantId && (!q.status || o.status === q.status) && (!q.kind || o.kind === q.kind),
    );
    return mapPage(
      paginate(ops, (o) => o.eventId, q),
      operationView,
    );
  }

  /** One operation with its steps from event-log; if event-log cannot answer, steps is null and steps_error says why. */
  async getOperation(p: Principal, tenantId: string, eventId: string) {
    this.ctx.tenantFor(p, tenantId, 'read');
    const o = this.ctx.catalog.operations.get(eventId);
    if (!o || o.tenantId !== tenantId) throw new NotFoundError(`operation ${eventId} not found`);
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
    return { ...operationView(o), steps, ...(stepsError ? { steps_error: stepsError } : {}) };
  }
}
