import type { ReadinessCheck } from '@wharf/service-kit';
import type { DependencyState } from './dependency-state';

/** The catalog projection as readiness sees it (Projection from @wharf/event-store). */
export interface FollowedProjection {
  readonly live: boolean;
  readonly position: string;
}

/** Ready for writes: etcd answers (the probe and the calls say so; in-memory, cheap to ask often). */
export function etcdCheck(etcd: DependencyState): ReadinessCheck {
  return {
    name: 'etcd',
    check: () => {
      const e = etcd.describe();
      return e.up ? { ok: true } : { ok: false, detail: `unreachable for ${e.down_for_ms} ms: ${e.reason}` };
    },
  };
}

/** Ready for reads: the catalog follows the live feed (not catching up, not disconnected). */
export function catalogCheck(catalog: FollowedProjection): ReadinessCheck {
  return {
    name: 'catalog',
    check: () =>
      catalog.live
        ? { ok: true, detail: `following the feed at ${catalog.position}` }
        : { ok: false, detail: `not following the feed (catching up or disconnected) at ${catalog.position}` },
  };
}
