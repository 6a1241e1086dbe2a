import { InvalidArgumentError } from '@wharf/errors';

/** What a node is for. compute runs replicas; the others say where Wharf's own parts run. */
export const NODE_ROLES = ['manage', 'compute', 'gateway', 'storage'] as const;
export type NodeRole = (typeof NODE_ROLES)[number];

/** Most labels a node may carry (Kubernetes has no limit; one keeps events small). */
export const MAX_LABELS = 64;

// Kubernetes' rules (apimachinery validation: IsQualifiedName, IsValidLabelValue).
const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why a label key is not a Kubernetes qualified name, or undefined when it is one. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined) {
    if (prefix.length === 0) return 'the prefix before "/" must not be empty';
    if (prefix.length > 253) return 'the prefix must be 253 characters or less';
    if (!DNS_SUBDOMAIN.test(prefix)) return 'the prefix must be a DNS subdomain: lowercase a-z, 0-9, "-" and ".", starting and ending with a letter or digit';
  }
  if (name.length === 0) return 'the name must not be empty';
  if (name.length > 63) return 'the name must be 63 characters or less';
  if (!NAME.test(name)) return 'the name must be A-Z, a-z, 0-9, "-", "_" and ".", starting and ending with a letter or digit';
  return undefined;
}

/** Why a label value is not valid for Kubernetes, or undefined when it is ("" is valid). */
export function labelValueProblem(value: string): string | undefined {
  if (value.length > 63) return 'the value must be 63 characters or less';
  if (value !== '' && !NAME.test(value)) return 'the value must be empty or A-Z, a-z, 0-9, "-", "_" and ".", starting and ending with a letter or digit';
  return undefined;
}

/**
 * Checks every label and throws one error naming each bad one (field: the first), so a caller
 * applies all of them or none.
 */
export function validateLabels(labels: Record<string, unknown>, field = 'labels'): Record<string, string> {
  const entries = Object.entries(labels);
  if (entries.length > MAX_LABELS) throw new InvalidArgumentError(`${field}: at most ${MAX_LABELS} labels, got ${entries.length}`, { field });
  const problems: { key: string; message: string }[] = [];
  for (const [key, value] of entries) {
    const keyProblem = labelKeyProblem(key) ?? reservedLabelProblem(key);
    if (keyProblem) problems.push({ key, message: `label ${JSON.stringify(key)}: ${keyProblem}` });
    else if (typeof value !== 'string') problems.push({ key, message: `label ${JSON.stringify(key)}: the value must be a string` });
    else {
      const valueProblem = labelValueProblem(value);
      if (valueProblem) problems.push({ key, message: `label ${JSON.stringify(key)}=${JSON.stringify(value)}: ${valueProblem}` });
    }
  }
  if (problems.length)
    throw new InvalidArgumentError(`${problems.map((p) => p.message).join('; ')} (no label was changed)`, {
      field: `${field}[${JSON.stringify(problems[0].key)}]`,
    });
  return Object.fromEntries(entries) as Record<string, string>;
}

/** Node labels under this prefix are Wharf's roles on a Kubernetes node (wharf.io/role-compute=true). */
export const ROLE_LABEL_PREFIX = 'wharf.io/role-';

/**
 * Why a node label key is not an administrator's to set, or undefined. A node's labels are
 * copied as they are onto its Kubernetes node (so a component's placement selects them by the
 * same keys), and the kubelet and the cluster own the kubernetes.io and k8s.io prefixes
 * (kubernetes.io/hostname, node-role..., topology...): a label there would fight them.
 * wharf.io/role-* carry the node's roles.
 */
export function reservedLabelProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash < 0 ? '' : key.slice(0, slash);
  if (/(^|\.)(kubernetes\.io|k8s\.io)$/.test(prefix)) return `the prefix ${prefix} is reserved for Kubernetes' own node labels`;
  if (key.startsWith(ROLE_LABEL_PREFIX)) return `${ROLE_LABEL_PREFIX}* labels are the node's roles: set its roles instead`;
  return undefined;
}

/** The labels a Wharf node puts on its Kubernetes node: its own, plus one per role. */
export function kubernetesNodeLabels(node: { labels: Record<string, string>; roles: readonly string[] }): Record<string, string> {
  const out: Record<string, string> = { ...node.labels };
  for (const r of node.roles) out[`${ROLE_LABEL_PREFIX}${r}`] = 'true';
  return out;
}

/**
 * A component's placement: node labels its replicas need (a Kubernetes nodeSelector). Any
 * valid label key may be selected, kubernetes.io/hostname included; at most 16 of them.
 */
export function validatePlacement(placement: Record<string, unknown>, field = 'placement'): Record<string, string> {
  const entries = Object.entries(placement);
  if (entries.length > 16) throw new InvalidArgumentError(`${field}: at most 16 labels, got ${entries.length}`, { field });
  for (const [key, value] of entries) {
    const problem = labelKeyProblem(key) ?? (typeof value === 'string' ? labelValueProblem(value) : 'the value must be a string');
    if (problem) throw new InvalidArgumentError(`${field}: label ${JSON.stringify(key)}: ${problem}`, { field: `${field}[${JSON.stringify(key)}]` });
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

/** Whether a node's labels (roles as role labels, its id as kubernetes.io/hostname) carry every label of a placement. */
export function matchesPlacement(node: { id: string; labels: Record<string, string>; roles: readonly string[] }, placement: Record<string, string>): boolean {
  // The node's name is its Kubernetes node's kubernetes.io/hostname (the kubelet's label).
  const labels: Record<string, string> = { ...kubernetesNodeLabels(node), 'kubernetes.io/hostname': node.id };
  return Object.entries(placement).every(([k, v]) => labels[k] === v);
}

/** Checks roles (known names, no repeats) and returns them in the table's order. */
export function validateRoles(roles: unknown[], field = 'roles'): NodeRole[] {
  const bad = roles.filter((r) => typeof r !== 'string' || !(NODE_ROLES as readonly string[]).includes(r));
  if (bad.length) throw new InvalidArgumentError(`${field}: ${bad.map((b) => JSON.stringify(b)).join(', ')} is no role (${NODE_ROLES.join(', ')})`, { field });
  return NODE_ROLES.filter((r) => roles.includes(r));
}

/** "a=1,b=2" (WHARF_NODE_LABELS) -> labels, validated. */
export function parseLabelList(text: string, field: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new InvalidArgumentError(`${field}: ${JSON.stringify(part)} must be name=value`, { field });
    labels[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return validateLabels(labels, field);
}

const NODE_ID = /^[a-z0-9]([a-z0-9.-]{0,50}[a-z0-9])?$/;

/**
 * A node id is a short DNS subdomain (a Kubernetes node name of at most 52 characters), so it
 * is a valid stream id, etcd key part and mq topic part ("node-task.<id>" within 63).
 */
export function nodeIdProblem(id: string): string | undefined {
  return NODE_ID.test(id)
    ? undefined
    : `node id ${JSON.stringify(id.slice(0, 80))} must be 1-52 characters of a-z, 0-9, "-" and ".", starting and ending with a letter or digit`;
}

export function assertNodeId(id: string, field = 'node'): string {
  const problem = nodeIdProblem(id);
  if (problem) throw new InvalidArgumentError(problem, { field });
  return id;
}

/** A default node id from a host name: lowercased, other characters as "-", cut to 52. */
export function nodeIdFromHostname(hostname: string): string {
  const id = hostname
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 52)
    .replace(/[^a-z0-9]+$/, '');
  return id || 'node';
}
