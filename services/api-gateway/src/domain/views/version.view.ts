import type { VersionView } from '../catalog';

export function versionView(v: VersionView) {
  return { id: v.id, source: v.source, image: v.image, build_event_id: v.buildEventId || null, status: v.status, created_at_ms: v.timeMs };
}
