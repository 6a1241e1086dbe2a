import type { DependencyState } from './dependency-state';

export interface ReadinessCheck {
  name: string;
  ok: boolean;
  detail?: string;
}

/** Can this api-gateway serve its main calls: etcd answers (writes) and the catalog follows the feed (reads)? */
export interface Readiness {
  ready: boolean;
  checks: ReadinessCheck[];
}

/** The catalog projection as readiness sees it (Projection from @wharf/event-store). */
export interface FollowedProjection {
  readonly live: boolean;
  readonly position: string;
}

/** A shared /readyz calls this (READINESS in tokens.ts); it reads only in-memory state, so it is cheap to call often. */
export type ReadinessProbe = () => Readiness;

export function readiness(etcd: DependencyState, catalog: FollowedProjection): Readiness {
  const e = etcd.describe();
  const checks: ReadinessCheck[] = [
    { name: 'etcd', ok: e.up, ...(e.up ? {} : { detail: `unreachable for ${e.down_for_ms} ms: ${e.reason}` }) },
    {
      name: 'catalog',
      ok: catalog.live,
      detail: catalog.live ? `following the feed at ${catalog.position}` : `not following the feed (catching up or disconnected) at ${catalog.position}`,
    },
  ];
  return { ready: checks.every((c) => c.ok), checks };
}
