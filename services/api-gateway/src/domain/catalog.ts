import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { eventsV1, tasksV1 } from '@wharf/contracts';
import type { ProjectionDefinition, RecordedEvent } from '@wharf/event-store';
import { IdentityModel, type IdentitySnapshot } from '@wharf/identity';
import { taskFromLegacyArgs } from './legacy-task';
import { CONTROL_KINDS, kindName, kindValue, type OperationKindName } from './operation-kinds';

export type OperationStatusName = 'pending' | 'running' | 'success' | 'failure' | 'timeout';

export interface AppView {
  id: string;
  tenantId: string;
  name: string;
  description: string;
  createdAtMs: number;
  version: number;
  deleted: boolean;
}

export interface VersionView {
  id: string;
  source: string;
  image: string;
  buildEventId: string;
  status: string;
  timeMs: number;
}

/** A component's push-to-deploy webhook (WebhookSet); the secret stays sealed (base64 of iv | tag | ciphertext). */
export interface WebhookView {
  hookId: string;
  sealedSecret: string;
  createdAtMs: number;
  rotatedAtMs: number;
}

export interface ComponentView {
  id: string;
  appId: string;
  tenantId: string;
  name: string;
  spec: eventsV1.ComponentSpec;
  version: number;
  createdAtMs: number;
  updatedAtMs: number;
  deleted: boolean;
  /** event_id of the operation without a final status yet, if any. */
  activeOperation?: string;
  versions: VersionView[];
  /** The running version and the one before it (VersionDeployed). */
  currentVersion?: string;
  previousVersion?: string;
  webhook?: WebhookView;
  /** The API's views of this component, built on first read after a change (never snapshotted). */
  cache?: { view?: unknown; json?: string; summary?: string; claims?: unknown };
}

export interface OperationView {
  eventId: string;
  kind: string;
  target: string;
  tenantId: string;
  status: OperationStatusName;
  message: string;
  failedStep: string;
  /** The typed task as requested (undefined only for a stored event no task can be made of). */
  task?: tasksV1.Task;
  actor: string;
  createdAtMs: number;
  finishedAtMs?: number;
}

const statusName: Record<number, OperationStatusName> = {
  [eventsV1.OperationStatus.PENDING]: 'pending',
  [eventsV1.OperationStatus.RUNNING]: 'running',
  [eventsV1.OperationStatus.SUCCESS]: 'success',
  [eventsV1.OperationStatus.FAILURE]: 'failure',
  [eventsV1.OperationStatus.TIMEOUT]: 'timeout',
};

/** Pause and resume act on the running operation; they never become a component's active one. */
const isControl = (op: OperationView) => CONTROL_KINDS.has(op.kind as OperationKindName);

const encodeTask = (task: tasksV1.Task | undefined) => task && Buffer.from(toBinary(tasksV1.TaskSchema, task)).toString('base64');
const decodeTask = (text: string) => fromBinary(tasksV1.TaskSchema, Buffer.from(text, 'base64'));

/** The catalog as JSON-able data: what a snapshot persists (component specs as base64 protobuf). */
export interface CatalogSnapshot {
  format: 1;
  /** Feed position of the last event folded in. */
  position: string;
  events: number;
  identity: IdentitySnapshot;
  apps: AppView[];
  components: (Omit<ComponentView, 'spec'> & { spec: string })[];
  /** task: base64 protobuf; snapshots from before typed tasks carry args (JSON text) instead. */
  operations: (Omit<OperationView, 'task'> & { task?: string; args?: string })[];
}

/** The api-gateway's read model: identity, apps, components and operations, folded from the feed. */
export class Catalog {
  identity = new IdentityModel();
  /** Events folded since the beginning of the feed, and the position of the last one. */
  events = 0;
  lastPosition = '0';
  readonly apps = new Map<string, AppView>();
  readonly components = new Map<string, ComponentView>();
  readonly componentsByApp = new Map<string, Map<string, ComponentView>>();
  readonly operations = new Map<string, OperationView>();
  /** Webhook id -> component id: how the unauthenticated receiver finds its component. */
  readonly webhooks = new Map<string, string>();
  /** Called (live, not during replay) when a queued operation becomes its component's active one. */
  onActivated?: (op: OperationView) => void;
  /** Components of an app sorted by id, rebuilt lazily after the app's set changes (lists page through it). */
  private readonly sortedByApp = new Map<string, ComponentView[]>();

  sortedComponents(appId: string): ComponentView[] {
    let sorted = this.sortedByApp.get(appId);
    if (!sorted) {
      sorted = [...(this.componentsByApp.get(appId)?.values() ?? [])].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      this.sortedByApp.set(appId, sorted);
    }
    return sorted;
  }

  apply(e: RecordedEvent): this {
    this.events++;
    this.lastPosition = e.position;
    this.identity.apply(e);
    const m = e.message;
    switch (m.$typeName) {
      case 'wharf.events.v1.AppCreated': {
        const a = m as eventsV1.AppCreated;
        this.apps.set(a.appId, {
          id: a.appId,
          tenantId: a.tenantId,
          name: a.name,
          description: a.description,
          createdAtMs: e.timeMs,
          version: e.version,
          deleted: false,
        });
        break;
      }
      case 'wharf.events.v1.AppDeleted': {
        const app = this.apps.get((m as eventsV1.AppDeleted).appId);
        if (app) {
          app.deleted = true;
          app.version = e.version;
        }
        break;
      }
      case 'wharf.events.v1.ComponentCreated': {
        const c = m as eventsV1.ComponentCreated;
        const view: ComponentView = {
          id: c.componentId,
          appId: c.appId,
          tenantId: c.tenantId,
          name: c.spec!.name,
          spec: c.spec!,
          version: e.version,
          createdAtMs: e.timeMs,
          updatedAtMs: e.timeMs,
          deleted: false,
          versions: [],
        };
        this.components.set(view.id, view);
        let byApp = this.componentsByApp.get(view.appId);
        if (!byApp) this.componentsByApp.set(view.appId, (byApp = new Map()));
        byApp.set(view.id, view);
        this.sortedByApp.delete(view.appId);
        break;
      }
      case 'wharf.events.v1.ComponentUpdated': {
        const c = this.components.get((m as eventsV1.ComponentUpdated).componentId);
        if (c) {
          c.spec = (m as eventsV1.ComponentUpdated).spec!;
          c.updatedAtMs = e.timeMs;
        }
        break;
      }
      case 'wharf.events.v1.ComponentDeleted': {
        const c = this.components.get((m as eventsV1.ComponentDeleted).componentId);
        if (c) this.dropComponent(c);
        break;
      }
      case 'wharf.events.v1.VersionRecorded': {
        const v = m as eventsV1.VersionRecorded;
        const c = this.components.get(v.componentId);
        if (!c) break;
        const version: VersionView = { id: v.versionId, source: v.source, image: v.image, buildEventId: v.buildEventId, status: v.status, timeMs: e.timeMs };
        // Recorded again (e.g. building -> success): the newer record replaces the older one.
        const at = c.versions.findIndex((x) => x.id === v.versionId);
        if (at >= 0) c.versions[at] = version;
        else c.versions.push(version);
        break;
      }
      case 'wharf.events.v1.VersionDeployed': {
        const v = m as eventsV1.VersionDeployed;
        const c = this.components.get(v.componentId);
        if (c && c.currentVersion !== v.versionId) {
          c.previousVersion = c.currentVersion;
          c.currentVersion = v.versionId;
        }
        break;
      }
      case 'wharf.events.v1.WebhookSet': {
        const w = m as eventsV1.WebhookSet;
        const c = this.components.get(w.componentId);
        if (!c || c.deleted) break;
        const same = c.webhook?.hookId === w.hookId;
        if (c.webhook && !same) this.webhooks.delete(c.webhook.hookId);
        c.webhook = {
          hookId: w.hookId,
          sealedSecret: Buffer.from(w.sealedSecret).toString('base64'),
          createdAtMs: same ? c.webhook!.createdAtMs : e.timeMs,
          rotatedAtMs: e.timeMs,
        };
        this.webhooks.set(w.hookId, c.id);
        break;
      }
      case 'wharf.events.v1.WebhookRemoved': {
        const w = m as eventsV1.WebhookRemoved;
        const c = this.components.get(w.componentId);
        if (c?.webhook?.hookId === w.hookId) c.webhook = undefined;
        if (this.webhooks.get(w.hookId) === w.componentId) this.webhooks.delete(w.hookId);
        break;
      }
      case 'wharf.events.v1.OperationRequested': {
        const o = m as eventsV1.OperationRequested;
        const c = this.components.get(o.target.replace(/^component\//, ''));
        const op: OperationView = {
          eventId: o.eventId,
          kind: kindName(o.kind),
          target: o.target,
          tenantId: o.tenantId,
          status: 'pending',
          message: '',
          failedStep: '',
          task: o.task ?? taskFromLegacyArgs(o, c?.spec),
          actor: e.actor,
          createdAtMs: e.timeMs,
        };
        this.operations.set(o.eventId, op);
        if (c && !c.activeOperation && !isControl(op)) c.activeOperation = o.eventId;
        break;
      }
      case 'wharf.events.v1.OperationStarted': {
        const op = this.operations.get((m as eventsV1.OperationStarted).eventId);
        if (op && op.status === 'pending') op.status = 'running';
        break;
      }
      case 'wharf.events.v1.OperationFinished': {
        const f = m as eventsV1.OperationFinished;
        const op = this.operations.get(f.eventId);
        if (!op) break;
        op.status = statusName[f.status] ?? 'failure';
        op.message = f.message;
        op.failedStep = f.failedStep;
        op.finishedAtMs = e.timeMs;
        const c = this.components.get(op.target.replace(/^component\//, ''));
        if (c && op.kind === 'delete' && op.status === 'success') this.dropComponent(c);
        if (c && c.activeOperation === f.eventId) {
          c.activeOperation = this.nextActive(c.id);
          const next = c.activeOperation && this.operations.get(c.activeOperation);
          if (next && next.status === 'pending') this.onActivated?.(next);
        }
        break;
      }
    }
    // Whatever an event says about a component, its cached view is stale now.
    const about = m as unknown as { componentId?: string; target?: string; eventId?: string };
    const target = about.componentId ?? about.target ?? (about.eventId ? this.operations.get(about.eventId)?.target : undefined);
    const touched = target && this.components.get(target.replace(/^component\//, ''));
    if (touched) touched.cache = undefined;
    // Every event of a component or app stream moves its version (the ETag).
    if (e.stream.startsWith('component/')) {
      const c = this.components.get(e.stream.slice('component/'.length));
      if (c) {
        c.version = e.version;
        c.cache = undefined;
      }
    } else if (e.stream.startsWith('app/')) {
      const a = this.apps.get(e.stream.slice('app/'.length));
      if (a) a.version = e.version;
    }
    return this;
  }

  /** ComponentDeleted, or a delete operation that succeeded: the component is gone from every list. */
  private dropComponent(c: ComponentView): void {
    c.deleted = true;
    // Its webhook's URL answers 404 from now on, also for a new component of the same name.
    if (c.webhook) this.webhooks.delete(c.webhook.hookId);
    c.webhook = undefined;
    this.componentsByApp.get(c.appId)?.delete(c.id);
    this.sortedByApp.delete(c.appId);
  }

  snapshot(): CatalogSnapshot {
    return {
      format: 1,
      position: this.lastPosition,
      events: this.events,
      identity: this.identity.snapshot(),
      apps: [...this.apps.values()],
      components: [...this.components.values()].map((c) => ({
        ...c,
        cache: undefined,
        spec: Buffer.from(toBinary(eventsV1.ComponentSpecSchema, c.spec)).toString('base64'),
      })),
      operations: [...this.operations.values()].map((o) => ({ ...o, task: encodeTask(o.task) })),
    };
  }

  static restore(s: CatalogSnapshot): Catalog {
    if (s.format !== 1) throw new Error(`unknown catalog snapshot format ${String(s.format)}`);
    const c = new Catalog();
    c.identity = IdentityModel.restore(s.identity);
    c.events = s.events;
    c.lastPosition = s.position;
    for (const a of s.apps) c.apps.set(a.id, a);
    for (const x of s.components) {
      const view: ComponentView = { ...x, spec: fromBinary(eventsV1.ComponentSpecSchema, Buffer.from(x.spec, 'base64')) };
      c.components.set(view.id, view);
      if (view.deleted) continue;
      if (view.webhook) c.webhooks.set(view.webhook.hookId, view.id);
      let byApp = c.componentsByApp.get(view.appId);
      if (!byApp) c.componentsByApp.set(view.appId, (byApp = new Map()));
      byApp.set(view.id, view);
    }
    for (const { args, task, ...o } of s.operations) {
      const legacy = () =>
        taskFromLegacyArgs(
          create(eventsV1.OperationRequestedSchema, { eventId: o.eventId, kind: kindValue(o.kind), target: o.target, tenantId: o.tenantId, argsJson: args }),
          c.components.get(o.target.replace(/^component\//, ''))?.spec,
        );
      c.operations.set(o.eventId, { ...o, task: task ? decodeTask(task) : legacy() });
    }
    return c;
  }

  /** A queued operation becomes the active one when the one before it finishes. */
  private nextActive(componentId: string): string | undefined {
    for (const op of this.operations.values())
      if (op.target === `component/${componentId}` && (op.status === 'pending' || op.status === 'running') && !isControl(op)) return op.eventId;
    return undefined;
  }
}

export const catalogProjection: ProjectionDefinition<Catalog> = {
  name: 'api-gateway-catalog',
  initial: () => new Catalog(),
  apply: (state, event) => state.apply(event),
};
