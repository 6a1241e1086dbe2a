import type { eventsV1 } from '@wharf/contracts';
import type { ProjectionDefinition, RecordedEvent } from '@wharf/event-store';

/**
 * app-manager's own read model: the desired state of every component, folded from the
 * component streams of the feed (it cannot use api-gateway's catalog: services never share
 * code). Pure: the same fold runs live, after a restart from zero, and in unit tests.
 *
 * What runs is a Release (version + image + the spec as the rollout applied it + restart
 * generation). A spec change (ComponentUpdated) takes effect with the next rollout (deploy,
 * upgrade, rollback, restart), so an aborted rollout returns to exactly what ran before; the
 * replica count is the exception and follows the latest spec or ComponentScaled at once.
 */

export type OperationKind = 'deploy' | 'upgrade' | 'rollback' | 'restart' | 'scale' | 'start' | 'stop' | 'delete';
export const ROLLOUT_KINDS: readonly OperationKind[] = ['deploy', 'upgrade', 'rollback', 'restart'];

export interface Release {
  versionId: string;
  image: string;
  spec: eventsV1.ComponentSpec;
  generation: number;
}

export interface VersionInfo {
  id: string;
  image: string;
  status: string;
  timeMs: number;
}

/** The operation app-manager is applying to a component (one at a time). */
export interface ActiveOperation {
  eventId: string;
  kind: OperationKind;
  /** When it was accepted (the intent event's time). */
  sinceMs: number;
  /** Set once a rollout failed: the reason, while the previous release is being restored. */
  aborting?: string;
}

export interface ComponentRecord {
  id: string;
  tenantId: string;
  appId: string;
  /** The component's name (a DNS label), as created. */
  name: string;
  /** Version of the component stream (for appends with optimistic concurrency). */
  streamVersion: number;
  /** The latest spec (applied by the next rollout). */
  spec: eventsV1.ComponentSpec;
  versions: VersionInfo[];
  replicas: number;
  stopped: boolean;
  /** Deleted (ComponentRetired, or api-gateway's ComponentDeleted): nothing of it may run. */
  retired: boolean;
  deployed?: Release;
  previousVersionId?: string;
  /** The release a rollout in progress moves to. */
  target?: Release;
  maxSurge: number;
  maxUnavailable: number;
  paused: boolean;
  /** When the rollout was paused: the time it stays paused does not count against its deadline. */
  pausedAtMs?: number;
  operation?: ActiveOperation;
  /** Event ids of the operations app-manager has accepted (a redelivered task is recognised). */
  accepted: Set<string>;
  /** Operations whose final status event-log has decided. */
  finished: Set<string>;
  /** Operations applied (OperationApplied) whose final status event-log has not decided yet: app-manager tells it again after a restart. */
  unreported: Map<string, { kind: OperationKind; succeeded: boolean; message: string }>;
}

const ID_PREFIX = 'component/';

export class Fleet {
  readonly components = new Map<string, ComponentRecord>();
  /** Feed position of the last event folded in. */
  position = '0';

  get(id: string): ComponentRecord | undefined {
    return this.components.get(id);
  }

  /** The component of an app with this name (dependencies are named within their app). */
  byName(appId: string, name: string): ComponentRecord | undefined {
    for (const c of this.components.values()) if (c.appId === appId && c.name === name && !c.retired) return c;
    return undefined;
  }

  apply(e: RecordedEvent): this {
    this.position = e.position;
    if (!e.stream.startsWith(ID_PREFIX)) return this;
    const id = e.stream.slice(ID_PREFIX.length);
    const m = e.message;
    if (m.$typeName === 'wharf.events.v1.ComponentCreated') {
      const c = m as eventsV1.ComponentCreated;
      this.components.set(id, {
        id,
        tenantId: c.tenantId,
        appId: c.appId,
        name: c.spec?.name ?? id,
        streamVersion: e.version,
        spec: c.spec!,
        versions: [],
        replicas: c.spec?.replicas ?? 0,
        stopped: false,
        retired: false,
        maxSurge: 0,
        maxUnavailable: 0,
        paused: false,
        accepted: new Set(),
        finished: new Set(),
        unreported: new Map(),
      });
      return this;
    }
    const r = this.components.get(id);
    if (!r) return this;
    r.streamVersion = e.version;
    switch (m.$typeName) {
      case 'wharf.events.v1.ComponentUpdated': {
        const spec = (m as eventsV1.ComponentUpdated).spec;
        if (spec) {
          r.spec = spec;
          r.replicas = spec.replicas;
        }
        break;
      }
      case 'wharf.events.v1.ComponentDeleted':
        r.retired = true;
        break;
      case 'wharf.events.v1.VersionRecorded': {
        const v = m as eventsV1.VersionRecorded;
        const info = { id: v.versionId, image: v.image, status: v.status, timeMs: e.timeMs };
        const at = r.versions.findIndex((x) => x.id === v.versionId);
        if (at >= 0) r.versions[at] = info;
        else r.versions.push(info);
        break;
      }
      case 'wharf.events.v1.RolloutStarted': {
        const s = m as eventsV1.RolloutStarted;
        this.accept(r, e, s.kind as OperationKind);
        r.target = { versionId: s.versionId, image: s.image, spec: s.spec ?? r.spec, generation: Number(s.restartGeneration) };
        r.maxSurge = s.maxSurge;
        r.maxUnavailable = s.maxUnavailable;
        r.paused = false;
        break;
      }
      case 'wharf.events.v1.RolloutAborted':
        r.target = undefined;
        r.paused = false;
        if (r.operation) r.operation.aborting = (m as eventsV1.RolloutAborted).reason || 'rollout aborted';
        break;
      case 'wharf.events.v1.RolloutPaused':
        if (r.target && !r.paused) {
          r.paused = true;
          r.pausedAtMs = e.timeMs;
        }
        r.accepted.add(e.eventId);
        break;
      case 'wharf.events.v1.RolloutResumed':
        if (r.paused && r.operation && r.pausedAtMs !== undefined) r.operation.sinceMs += Math.max(0, e.timeMs - r.pausedAtMs);
        r.paused = false;
        r.pausedAtMs = undefined;
        r.accepted.add(e.eventId);
        break;
      case 'wharf.events.v1.VersionDeployed': {
        const v = m as eventsV1.VersionDeployed;
        const release =
          r.target?.versionId === v.versionId
            ? r.target
            : {
                versionId: v.versionId,
                image: r.versions.find((x) => x.id === v.versionId)?.image ?? '',
                spec: r.spec,
                generation: r.deployed?.generation ?? 0,
              };
        if (r.deployed?.versionId !== v.versionId) r.previousVersionId = r.deployed?.versionId;
        r.deployed = release;
        r.target = undefined;
        r.paused = false;
        break;
      }
      case 'wharf.events.v1.ComponentScaled':
        this.accept(r, e, 'scale');
        r.replicas = (m as eventsV1.ComponentScaled).replicas;
        break;
      case 'wharf.events.v1.ComponentStopped':
        this.accept(r, e, 'stop');
        r.stopped = true;
        break;
      case 'wharf.events.v1.ComponentStarted':
        this.accept(r, e, 'start');
        r.stopped = false;
        break;
      case 'wharf.events.v1.ComponentRetired':
        this.accept(r, e, 'delete');
        r.retired = true;
        r.target = undefined;
        break;
      case 'wharf.events.v1.OperationApplied': {
        const a = m as eventsV1.OperationApplied;
        // An operation answered at once (a pause that found no rollout) is accepted with it.
        if (e.eventId === a.eventId) r.accepted.add(a.eventId);
        if (r.operation?.eventId === a.eventId) {
          // A rollout that did not end in VersionDeployed leaves nothing of its target behind.
          if (ROLLOUT_KINDS.includes(r.operation.kind)) r.target = undefined;
          if (!r.finished.has(a.eventId)) r.unreported.set(a.eventId, { kind: r.operation.kind, succeeded: a.succeeded, message: a.message });
          r.operation = undefined;
        }
        break;
      }
      case 'wharf.events.v1.OperationFinished': {
        const eventId = (m as eventsV1.OperationFinished).eventId;
        r.finished.add(eventId);
        r.unreported.delete(eventId);
        break;
      }
    }
    return this;
  }

  /** An intent event: the operation it belongs to becomes the component's active one. */
  private accept(r: ComponentRecord, e: RecordedEvent, kind: OperationKind): void {
    if (e.eventId) r.accepted.add(e.eventId);
    // Operations come one at a time (api-gateway queues them); a newer one takes over in any case.
    r.operation = { eventId: e.eventId, kind, sinceMs: e.timeMs };
  }
}

export const fleetProjection: ProjectionDefinition<Fleet> = {
  name: 'app-manager-fleet',
  streamPrefix: ID_PREFIX,
  initial: () => new Fleet(),
  apply: (state, event) => state.apply(event),
};

/** What should run now: the rollout's target, else the deployed release. */
export function currentRelease(r: ComponentRecord): Release | undefined {
  return r.target ?? r.deployed;
}

/** Replicas wanted now: none while stopped, retired or with nothing deployed. */
export function wantedReplicas(r: ComponentRecord): number {
  if (r.retired || r.stopped || !currentRelease(r)) return 0;
  return r.replicas;
}
