import { ReplicaCreateError, type ReplicaSpec } from './runtime-driver';

// Everything here reaches the runtime's API (names, labels, env, mounts): refuse what could
// be read as something else (an option, a path outside the container, a label of another kind).
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
const TEMPLATE = /^[a-z0-9]{1,64}$/;
const IMAGE =
  /^(?:[a-z0-9]+(?:[.-][a-z0-9]+)*(?::[0-9]{1,5})?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const MOUNT = /^\/(?!.*\.\.)[A-Za-z0-9._\-/]{0,1023}$/;
const ALIAS = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

function refuse(field: string, why: string): never {
  throw new ReplicaCreateError('invalid_spec', `replica spec ${field}: ${why}`);
}

/** Throws ReplicaCreateError('invalid_spec') naming the first bad field. */
export function validateReplicaSpec(spec: ReplicaSpec): void {
  const l = spec.labels;
  for (const [field, value] of [
    ['labels.dataCenter', l.dataCenter],
    ['labels.tenantId', l.tenantId],
    ['labels.appId', l.appId],
    ['labels.componentId', l.componentId],
  ] as const)
    if (!ID.test(value)) refuse(field, `${JSON.stringify(value)} must be letters, digits and . _ - (at most 200)`);
  if (l.versionId && !ID.test(l.versionId)) refuse('labels.versionId', `${JSON.stringify(l.versionId)} is not an id`);
  if (!Number.isInteger(l.slot) || l.slot < 0 || l.slot > 10_000) refuse('labels.slot', `${l.slot} must be an integer 0-10000`);
  if (!TEMPLATE.test(l.template)) refuse('labels.template', 'must be a lowercase hex hash');
  for (const [field, value] of Object.entries(spec.names)) if (!DNS_LABEL.test(value)) refuse(`names.${field}`, `${JSON.stringify(value)} must be a DNS label`);
  if (spec.image.length > 255 || !IMAGE.test(spec.image)) refuse('image', `${JSON.stringify(spec.image)} is not an image reference`);
  const seen = new Set<string>();
  for (const e of spec.env) {
    if (!ENV_NAME.test(e.name)) refuse('env', `${JSON.stringify(e.name)} is not an environment variable name`);
    if (seen.has(e.name)) refuse('env', `${e.name} is given twice`);
    seen.add(e.name);
    // The value itself is never quoted: it may be a secret.
    if (e.value.includes('\0')) refuse(`env.${e.name}`, 'value contains a NUL byte');
  }
  if (!Number.isInteger(spec.cpuMillis) || spec.cpuMillis < 0 || spec.cpuMillis > 1_000_000) refuse('cpuMillis', `${spec.cpuMillis} out of range`);
  if (!Number.isInteger(spec.memoryMib) || spec.memoryMib < 0 || spec.memoryMib > 4_194_304) refuse('memoryMib', `${spec.memoryMib} out of range`);
  if (spec.memoryMib > 0 && spec.memoryMib < 6) refuse('memoryMib', 'at least 6 MiB (the engine refuses less)');
  const hostPorts = new Set<number>();
  for (const p of spec.ports) {
    if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) refuse('ports', `${p.port} is not a port`);
    if (p.hostPort) {
      if (!Number.isInteger(p.hostPort) || p.hostPort < 1 || p.hostPort > 65535) refuse('ports', `host port ${p.hostPort} is not a port`);
      if (hostPorts.has(p.hostPort)) refuse('ports', `host port ${p.hostPort} is given twice`);
      hostPorts.add(p.hostPort);
    }
  }
  for (const v of spec.volumes) {
    if (!DNS_LABEL.test(v.name)) refuse('volumes', `${JSON.stringify(v.name)} must be a DNS label`);
    if (!MOUNT.test(v.mountPath) || v.mountPath === '/') refuse('volumes', `${JSON.stringify(v.mountPath)} must be an absolute path below / without ".."`);
  }
  for (const a of spec.aliases) if (!ALIAS.test(a)) refuse('aliases', `${JSON.stringify(a)} is not a DNS name`);
  if (!Number.isInteger(spec.stopGraceMs) || spec.stopGraceMs < 0 || spec.stopGraceMs > 600_000) refuse('stopGraceMs', `${spec.stopGraceMs} out of range`);
}
