/** A node as a data center's API shows it (GET /api/v1/nodes/<id>), tagged with its data center by the console. */
export interface NodeItem {
  id: string;
  address: string;
  state: string;
  cordoned: boolean;
  roles: string[];
  labels: Record<string, string>;
  version: number;
  allowed_actions: string[];
  heartbeat: { alive: boolean; age_ms?: number; runtime?: string };
  capacity: Resources | null;
  usage: Resources | null;
  conditions: { type: string; ok: boolean; message: string; last_change_ms: number | null }[];
  transitions: { action: string; from: string; to: string; reason: string; actor: string; at_ms: number }[];
}

export interface Resources {
  cpu_millis: number | null;
  memory_bytes: number | null;
  disk_bytes: number | null;
}

/** The lifecycle moves an administrator makes (the others, init/online/fail/migrated, are node-manager's own). */
export const ADMIN_ACTIONS = ['cordon', 'uncordon', 'repair', 'offline'] as const;

/** Which of them the node's state allows now, in that order. */
export function adminActions(n: Pick<NodeItem, 'allowed_actions'>): string[] {
  return ADMIN_ACTIONS.filter((a) => n.allowed_actions.includes(a));
}

/** "ok", "no heartbeat", or the failing conditions with their messages. */
export function healthOf(n: Pick<NodeItem, 'heartbeat' | 'conditions'>): { ok: boolean; text: string } {
  if (!n.heartbeat.alive) return { ok: false, text: 'no heartbeat' };
  const failing = n.conditions.filter((c) => !c.ok);
  return failing.length ? { ok: false, text: failing.map((c) => `${c.type}${c.message ? `: ${c.message}` : ''}`).join('; ') } : { ok: true, text: 'ok' };
}

/** Use of a resource as a share of capacity ("-" when either is unknown). */
export function percent(used: number | null | undefined, capacity: number | null | undefined): string {
  return used != null && capacity ? `${Math.round((100 * used) / capacity)}%` : '-';
}

export function bytes(n: number | null | undefined): string {
  if (n == null) return '-';
  return n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : `${Math.round(n / 2 ** 20)} MiB`;
}

/**
 * Labels typed as "key=value" lines (or comma-separated) into the object the API takes;
 * a line without "=" is named. The data center checks names and values itself.
 */
export function parseLabels(text: string): { labels: Record<string, string> } | { error: string } {
  const labels: Record<string, string> = {};
  for (const raw of text.split(/[\n,]/)) {
    const item = raw.trim();
    if (!item) continue;
    const i = item.indexOf('=');
    if (i <= 0) return { error: `"${item}": expected key=value` };
    labels[item.slice(0, i).trim()] = item.slice(i + 1).trim();
  }
  return { labels };
}

export const formatLabels = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
