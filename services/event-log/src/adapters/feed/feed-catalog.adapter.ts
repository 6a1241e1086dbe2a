import type { eventsV1 } from '@wharf/contracts';
import { FEED_START, type EventStore, type FeedPosition, type RecordedEvent, type Subscription } from '@wharf/event-store';
import { bearerToken, can, IdentityModel, type Principal } from '@wharf/identity';
import type { Authenticator } from './authenticator';
import type { FeedOperation, FeedOperations } from './feed-operations';

/**
 * A fold of the global feed, in memory, on every instance: operations (by event id and by
 * target, from OperationRequested/Started/Finished), which tenant a component belongs to, and
 * identity (users, tokens, members) for authentication. Rebuilt from the feed on start.
 */
export class FeedCatalog implements Authenticator, FeedOperations {
  readonly identity = new IdentityModel();
  readonly operations = new Map<string, FeedOperation>();
  /** target -> event ids in the order requested */
  readonly byTarget = new Map<string, string[]>();
  readonly componentTenant = new Map<string, string>();
  /** Called after an OperationRequested is folded (live and during catch-up). */
  onRequested?: (op: FeedOperation) => void;
  private subscription?: Subscription;
  private at: FeedPosition = FEED_START;

  apply(e: RecordedEvent): void {
    this.identity.apply(e);
    const m = e.message;
    switch (m.$typeName) {
      case 'wharf.events.v1.OperationRequested': {
        const o = m as eventsV1.OperationRequested;
        if (this.operations.has(o.eventId)) break;
        const op: FeedOperation = {
          eventId: o.eventId,
          tenantId: o.tenantId,
          target: o.target || e.stream,
          kind: o.kind,
          requestedVersion: e.version,
          requestedMs: e.timeMs,
          started: false,
        };
        this.operations.set(o.eventId, op);
        let list = this.byTarget.get(op.target);
        if (!list) this.byTarget.set(op.target, (list = []));
        list.push(op.eventId);
        this.onRequested?.(op);
        break;
      }
      case 'wharf.events.v1.OperationStarted': {
        const op = this.operations.get((m as eventsV1.OperationStarted).eventId);
        if (op) op.started = true;
        break;
      }
      case 'wharf.events.v1.OperationFinished': {
        const f = m as eventsV1.OperationFinished;
        const op = this.operations.get(f.eventId);
        if (op && !op.finished) op.finished = { status: f.status, message: f.message, failedStep: f.failedStep, timeMs: e.timeMs };
        break;
      }
      case 'wharf.events.v1.ComponentCreated': {
        const c = m as eventsV1.ComponentCreated;
        this.componentTenant.set(c.componentId, c.tenantId);
        break;
      }
    }
  }

  /** Follows the feed from the start; resolves once caught up. */
  async start(store: EventStore, onError: (err: Error) => void): Promise<void> {
    this.subscription = store.subscribe(
      this.at,
      (e) => {
        this.apply(e);
        this.at = e.position;
      },
      { onError },
    );
    await this.subscription.caughtUp;
  }

  get position(): FeedPosition {
    return this.subscription?.position ?? this.at;
  }

  async stop(): Promise<void> {
    await this.subscription?.close();
    this.subscription = undefined;
  }

  authenticate(token: string | undefined): Principal | undefined {
    if (!token) return undefined;
    return this.identity.authenticate(bearerToken(token) ?? token);
  }

  canRead(principal: Principal, tenantId: string): boolean {
    return !!tenantId && this.identity.tenants.has(tenantId) && can(principal, 'read', tenantId);
  }
}
