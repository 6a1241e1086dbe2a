import { backendFor, type Backend } from './backend';
import { requireProfile } from './config-store';
import { CliError, EXIT } from './exit-codes';
import { callJson } from './http-client';
import { print, table } from './output';

type Json = Record<string, unknown>;

export interface NodeOptions {
  json?: boolean;
  dc?: string;
}

/** What an administrator may ask of a node (the data center decides whether the move is allowed now). */
export const NODE_STATE_ACTIONS = ['cordon', 'uncordon', 'repair', 'offline'] as const;
export type NodeStateAction = (typeof NODE_STATE_ACTIONS)[number];

/** The data center's own rule, checked here first so a typo never reaches it: 1-52 of a-z, 0-9, "-", ".". */
const NODE_ID = /^[a-z0-9]([-a-z0-9.]{0,50}[a-z0-9])?$/;
/** How long `node task` waits for every node's report before it says where to look. */
const TASK_WAIT_MS = 120_000;

export interface NodeView extends Json {
  id: string;
  address: string;
  state: string;
  cordoned: boolean;
  roles: string[];
  labels: Record<string, string>;
  version: number;
  allowed_actions: string[];
  heartbeat: { alive: boolean; age_ms?: number; runtime?: string };
  capacity: { cpu_millis: number | null; memory_bytes: number | null; disk_bytes: number | null } | null;
  usage: { cpu_millis: number | null; memory_bytes: number | null; disk_bytes: number | null } | null;
  conditions: { type: string; ok: boolean; message: string; last_change_ms: number | null }[];
  transitions: { action: string; from: string; to: string; reason: string; actor: string; at_ms: number }[];
}

export function nodeId(value: string): string {
  if (!NODE_ID.test(value))
    throw new CliError(`node "${value}": must be 1-52 characters of a-z, 0-9, "-" and ".", starting and ending with a letter or digit`, EXIT.usage);
  return value;
}

const backend = (o: NodeOptions): Backend => backendFor(requireProfile(), o.dc);

/** Conditions that fail, as "type (message)"; "ok" when none; "no heartbeat" when its node-manager is silent. */
export function health(n: Pick<NodeView, 'heartbeat' | 'conditions'>): string {
  if (!n.heartbeat.alive) return 'no heartbeat';
  const failing = n.conditions.filter((c) => !c.ok);
  return failing.length ? failing.map((c) => `${c.type}${c.message ? ` (${c.message})` : ''}`).join(', ') : 'ok';
}

const pct = (used: number | null | undefined, cap: number | null | undefined) => (used != null && cap ? `${Math.round((100 * used) / cap)}%` : '-');

function rows(items: NodeView[]): Json[] {
  return items.map((n) => ({
    ...n,
    roles: n.roles.join(',') || '-',
    health: health(n),
    cpu: pct(n.usage?.cpu_millis, n.capacity?.cpu_millis),
    memory: pct(n.usage?.memory_bytes, n.capacity?.memory_bytes),
    disk: pct(n.usage?.disk_bytes, n.capacity?.disk_bytes),
  }));
}

const outcomes = (dcs: { name: string; status: string; message: string | null }[]) => {
  const bad = dcs.filter((d) => d.status !== 'ok');
  return bad.length
    ? `\n${bad.map((d) => `! ${d.name}: ${d.status === 'unsupported' ? 'no node API' : d.status}${d.message ? ` (${d.message})` : ''}`).join('\n')}`
    : '';
};

/** wharf nodes: through a console every data center's (or --dc's), else the one data center's. */
export async function nodes(o: NodeOptions): Promise<void> {
  const p = requireProfile();
  if (p.kind === 'console') {
    const res = (await callJson(p.url, p.token, 'GET', `/api/v1/nodes${o.dc ? `?dc=${encodeURIComponent(o.dc)}` : ''}`)) as {
      items: (NodeView & { dc_name: string })[];
      data_centers: { name: string; status: string; message: string | null }[];
    };
    return print(
      o.json,
      res,
      () => table(rows(res.items), ['dc_name', 'id', 'address', 'state', 'roles', 'health', 'cpu', 'memory', 'disk']) + outcomes(res.data_centers),
    );
  }
  const res = (await backend(o)
    .dc('GET', '/nodes')
    .catch((err: CliError) => {
      throw err.exitCode === EXIT.notFound ? new CliError('this data center has no node API (node-manager)', EXIT.notFound) : err;
    })) as { items: NodeView[] };
  print(o.json, { items: res.items }, () => table(rows(res.items), ['id', 'address', 'state', 'roles', 'health', 'cpu', 'memory', 'disk']));
}

const getNode = async (b: Backend, id: string) => (await b.dc('GET', `/nodes/${encodeURIComponent(id)}`)) as NodeView;

const bytes = (n: number | null | undefined) => (n == null ? '-' : n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : `${Math.round(n / 2 ** 20)} MiB`);

/** One node for people: state, what it can do next, resources, conditions, labels, its last moves. */
export function describeNode(n: NodeView): string {
  const out = [
    `node ${n.id} (${n.address})`,
    `  state      ${n.state}${n.cordoned ? ' (cordoned: no new replicas)' : ''}`,
    `  next       ${n.allowed_actions.filter((a) => (NODE_STATE_ACTIONS as readonly string[]).includes(a)).join(', ') || '-'}`,
    `  roles      ${n.roles.join(', ') || '-'}`,
    `  heartbeat  ${n.heartbeat.alive ? `${Math.round((n.heartbeat.age_ms ?? 0) / 1000)} s ago, runtime ${n.heartbeat.runtime ?? '-'}` : 'none (its node-manager is not reporting)'}`,
  ];
  if (n.capacity) {
    out.push(`  cpu        ${n.usage?.cpu_millis ?? '-'} of ${n.capacity.cpu_millis ?? '-'} millicores`);
    out.push(`  memory     ${bytes(n.usage?.memory_bytes)} of ${bytes(n.capacity.memory_bytes)}`);
    out.push(`  disk       ${bytes(n.usage?.disk_bytes)} of ${bytes(n.capacity.disk_bytes)}`);
  }
  out.push('  conditions');
  for (const c of n.conditions) out.push(`    ${c.ok ? 'ok  ' : 'FAIL'} ${c.type}${c.message ? `: ${c.message}` : ''}`);
  if (!n.conditions.length) out.push('    (none reported)');
  const labels = Object.entries(n.labels);
  out.push(`  labels     ${labels.length ? labels.map(([k, v]) => `${k}=${v}`).join(' ') : '-'}`);
  out.push('  history');
  for (const t of n.transitions.slice(-5)) out.push(`    ${new Date(t.at_ms).toISOString()} ${t.action}: ${t.from} -> ${t.to} (${t.reason}, ${t.actor})`);
  return out.join('\n');
}

export async function nodeShow(id: string, o: NodeOptions): Promise<void> {
  const n = await getNode(backend(o), nodeId(id));
  print(o.json, n, () => describeNode(n));
}

/** cordon / uncordon / repair / offline: one lifecycle move, guarded by the version read (a concurrent move is a conflict). */
export async function nodeState(action: NodeStateAction, id: string, o: NodeOptions & { reason?: string; yes?: boolean }): Promise<void> {
  nodeId(id);
  if (o.reason !== undefined && o.reason.length > 500) throw new CliError('--reason: at most 500 characters', EXIT.usage);
  if (action === 'offline' && !o.yes)
    throw new CliError(`offline is final (nothing moves a node back from OFFLINE): pass --yes to take ${id} offline`, EXIT.usage);
  const b = backend(o);
  const before = await getNode(b, id);
  const after = (await b.dc(
    'POST',
    `/nodes/${encodeURIComponent(id)}/state`,
    { action, ...(o.reason ? { reason: o.reason } : {}) },
    { 'if-match': `"${before.version}"` },
  )) as NodeView;
  print(o.json, after, () => `node ${id}: ${action}, ${before.state} -> ${after.state}`);
}

/** KEY=VALUE sets, KEY- removes (kubectl's form); the node's other labels are kept (the data center checks names and values). */
export function changeLabels(current: Record<string, string>, args: string[]): Record<string, string> {
  if (!args.length) throw new CliError('name at least one label: KEY=VALUE to set, KEY- to remove', EXIT.usage);
  const next = { ...current };
  for (const arg of args) {
    const remove = /^([^=]+)-$/.exec(arg);
    const set = /^([^=]+)=(.*)$/.exec(arg);
    const key = remove?.[1] ?? set?.[1];
    if (!key) throw new CliError(`"${arg}": expected KEY=VALUE (set) or KEY- (remove)`, EXIT.usage);
    if (remove) {
      if (!(key in next)) throw new CliError(`label "${key}" is not set on this node`, EXIT.usage);
      delete next[key];
    } else next[key] = set![2];
  }
  return next;
}

export async function nodeLabel(id: string, args: string[], o: NodeOptions): Promise<void> {
  nodeId(id);
  const b = backend(o);
  const before = await getNode(b, id);
  const labels = changeLabels(before.labels, args);
  const after = (await b.dc('PUT', `/nodes/${encodeURIComponent(id)}/labels`, { labels }, { 'if-match': `"${before.version}"` })) as NodeView;
  print(
    o.json,
    after,
    () =>
      `node ${id} labels: ${
        Object.entries(after.labels)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ') || '(none)'
      }`,
  );
}

interface NodeTaskView {
  event_id: string;
  task: string;
  nodes: string[];
  status: string;
  message: string | null;
  reported: { node: string; succeeded: boolean; message: string | null }[];
}

/** Runs a node task on nodes and waits (bounded) for every node's report; exits 1 when one failed. */
export async function nodeTask(task: string, ids: string[], o: NodeOptions & { follow: boolean }): Promise<number> {
  ids.forEach(nodeId);
  const b = backend(o);
  const started = (await b.dc('POST', '/node-tasks', { task, nodes: ids })) as { event_id: string };
  process.stderr.write(`node task ${task} on ${ids.join(', ')}: ${started.event_id}\n`);
  if (!o.follow) {
    print(o.json, started, () => started.event_id);
    return EXIT.ok;
  }
  const shown = new Set<string>();
  const deadline = Date.now() + TASK_WAIT_MS;
  let view: NodeTaskView | undefined;
  while (Date.now() < deadline) {
    view = (await b.dc('GET', `/node-tasks/${encodeURIComponent(started.event_id)}`)) as NodeTaskView;
    if (!o.json)
      for (const r of view.reported.filter((x) => !shown.has(x.node))) {
        shown.add(r.node);
        process.stdout.write(`${r.succeeded ? '✔' : '✖'} ${r.node}${r.message ? `: ${r.message}` : ''}\n`);
      }
    if (['success', 'failure', 'timeout'].includes(view.status)) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  if (!view || !['success', 'failure', 'timeout'].includes(view.status)) {
    process.stderr.write(`node task ${started.event_id} is still ${view?.status ?? 'pending'}; see it with: wharf node task-status ${started.event_id}\n`);
    return EXIT.detached;
  }
  if (o.json) process.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
  else (view.status === 'success' ? process.stdout : process.stderr).write(`node task ${task}: ${view.status}${view.message ? `: ${view.message}` : ''}\n`);
  return view.status === 'success' ? EXIT.ok : EXIT.operationFailed;
}

export async function nodeTaskStatus(eventId: string, o: NodeOptions): Promise<void> {
  if (!/^[A-Za-z0-9._:-]{1,200}$/.test(eventId)) throw new CliError(`"${eventId}": not an event id`, EXIT.usage);
  const view = (await backend(o).dc('GET', `/node-tasks/${encodeURIComponent(eventId)}`)) as NodeTaskView;
  print(o.json, view, () =>
    [
      `node task ${view.task} (${view.event_id}): ${view.status}${view.message ? `: ${view.message}` : ''}`,
      ...view.reported.map((r) => `  ${r.succeeded ? '✔' : '✖'} ${r.node}${r.message ? `: ${r.message}` : ''}`),
    ].join('\n'),
  );
}
