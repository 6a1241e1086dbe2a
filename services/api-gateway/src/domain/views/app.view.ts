import type { AppView } from '../catalog';

/** An app with how many live components it has (the catalog counts them). */
export function appView(a: AppView, components: number) {
  return { id: a.id, name: a.name, description: a.description, version: a.version, created_at_ms: a.createdAtMs, components };
}
