import { createHash } from 'node:crypto';
import type { eventsV1 } from '@wharf/contracts';
import type { PortSpec, VolumeSpec } from '@wharf/runtime';
import { currentRelease, wantedReplicas, type ActiveOperation, type ComponentRecord, type Fleet, type Release } from './fleet';

/**
 * A component's desired state rendered for the plan (pure): the replica template of the
 * release that should run (image, env with dependency variables, limits, ports, volumes,
 * probe) and its hash, which every replica carries as a label. A replica whose template hash
 * differs is out of date and is rolled; so a dependency whose ports change rolls its consumers.
 */

export interface ProbeSpec {
  /** 'running': no probe and no port: ready once it has run for minReadyMs. */
  kind: 'http' | 'tcp' | 'command' | 'running';
  path: string;
  port: number;
  command: string[];
  initialDelayMs: number;
  periodMs: number;
  failureThreshold: number;
}

/** An env variable of the template; secrets stay sealed until the executor creates the container. */
export type TemplateEnv =
  | { name: string; value: string; secret: false; hostOf?: { componentId: string; app: string; component: string } }
  | { name: string; sealed: Uint8Array; context: string; secret: true };

export interface ReplicaTemplate {
  hash: string;
  versionId: string;
  image: string;
  env: TemplateEnv[];
  cpuMillis: number;
  memoryMib: number;
  ports: PortSpec[];
  volumes: VolumeSpec[];
  aliases: string[];
  probe: ProbeSpec;
  generation: number;
  /** Node labels the replicas need (a nodeSelector on Kubernetes); {} for anywhere. */
  placement: Record<string, string>;
}

export interface ComponentNames {
  tenant: string;
  app: string;
  component: string;
}

export interface DesiredComponent {
  componentId: string;
  tenantId: string;
  appId: string;
  names: ComponentNames;
  /** The release that should run, rendered; undefined when nothing should (never deployed, deleted). */
  template?: ReplicaTemplate;
  /** The release in service before the rollout in progress, rendered (its replicas keep their own probe). */
  previous?: ReplicaTemplate;
  deployedVersionId?: string;
  replicas: number;
  /** A component with volumes: stable slots 1..N, each with its own volumes, replaced in place. */
  stateful: boolean;
  maxSurge: number;
  maxUnavailable: number;
  paused: boolean;
  operation?: ActiveOperation;
  /** The operation's final status is already decided by event-log (e.g. timed out). */
  operationFinished: boolean;
  retired: boolean;
  /** What keeps this component from running as asked (shown in its status, fails its operation). */
  problems: string[];
  /** What is odd but does not stop it (e.g. a dependency that does not exist): shown in its status. */
  warnings: string[];
}

export interface RenderSettings {
  maxSurge: number;
  maxUnavailable: number;
  /** Replicas without a probe or a port are ready once they have run this long. */
  minReadyMs: number;
}

const DNS = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** A DNS label from any id (names reach the runtime: container names, aliases). */
export function dnsLabel(text: string): string {
  if (DNS.test(text)) return text;
  const cleaned = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return cleaned || 'x';
}

export function namesOf(r: Pick<ComponentRecord, 'tenantId' | 'appId' | 'name'>): ComponentNames {
  const app = r.appId.startsWith(`${r.tenantId}.`) ? r.appId.slice(r.tenantId.length + 1) : r.appId;
  return { tenant: dnsLabel(r.tenantId), app: dnsLabel(app), component: dnsLabel(r.name) };
}

/** The in-network DNS name of a component (its replicas' network alias): <component>.<app>. */
export function serviceHost(names: ComponentNames): string {
  return `${names.component}.${names.app}`;
}

/** API_HOST / API_PORT for the first port, API_<PORT>_HOST / API_<PORT>_PORT for each, plus what the dependency exports. */
export function dependencyEnv(dep: ComponentRecord): TemplateEnv[] {
  const spec = dep.deployed?.spec ?? dep.spec;
  const prefix = dnsLabel(dep.name).toUpperCase().replace(/-/g, '_');
  const names = namesOf(dep);
  const host = serviceHost(names);
  // Not part of the template's hash (only names and values are): the runtime may resolve it.
  const hostOf = { componentId: dep.id, app: names.app, component: names.component };
  const env: TemplateEnv[] = [{ name: `${prefix}_HOST`, value: host, secret: false, hostOf }];
  spec.ports.forEach((p, i) => {
    if (i === 0) env.push({ name: `${prefix}_PORT`, value: String(p.port), secret: false });
    env.push(
      { name: `${prefix}_${p.port}_HOST`, value: host, secret: false, hostOf },
      { name: `${prefix}_${p.port}_PORT`, value: String(p.port), secret: false },
    );
  });
  for (const e of spec.consumerEnv) env.push(envOf(dep.id, e));
  return env;
}

function envOf(componentId: string, e: eventsV1.EnvVar): TemplateEnv {
  return e.secret
    ? { name: e.name, sealed: e.encryptedValue, context: `${componentId}/${e.name}`, secret: true }
    : { name: e.name, value: e.value, secret: false };
}

export function probeOf(spec: eventsV1.ComponentSpec): ProbeSpec {
  const p = spec.probe;
  const periodMs = (p?.periodS || 10) * 1000;
  const failureThreshold = p?.failureThreshold || 3;
  const initialDelayMs = (p?.initialDelayS ?? 0) * 1000;
  const firstPort = spec.ports[0]?.port ?? 0;
  if (p && (p.kind === 'http' || p.kind === 'tcp' || p.kind === 'command'))
    return { kind: p.kind, path: p.path || '/', port: p.port || firstPort, command: p.command, initialDelayMs, periodMs, failureThreshold };
  // No probe declared: a replica with a port is ready when the port accepts connections.
  if (firstPort) return { kind: 'tcp', path: '', port: firstPort, command: [], initialDelayMs, periodMs, failureThreshold };
  return { kind: 'running', path: '', port: 0, command: [], initialDelayMs, periodMs, failureThreshold };
}

function hashOf(t: Omit<ReplicaTemplate, 'hash'>): string {
  const h = createHash('sha256');
  // Secrets enter the hash sealed: a label must never let anyone test a guess of the value.
  // An empty placement leaves the hash as it was before placements existed: no needless roll.
  const { placement, ...rest } = t;
  const canonical = {
    ...rest,
    ...(Object.keys(placement).length ? { placement: Object.entries(placement).sort(([a], [b]) => (a < b ? -1 : 1)) } : {}),
    env: t.env.map((e) => (e.secret ? [e.name, Buffer.from(e.sealed).toString('base64')] : [e.name, e.value])),
  };
  h.update(JSON.stringify(canonical));
  return h.digest('hex').slice(0, 16);
}

/** Renders one component's desired state from the fold. */
export function renderDesired(r: ComponentRecord, fleet: Fleet, settings: RenderSettings): DesiredComponent {
  const names = namesOf(r);
  const release = currentRelease(r);
  const problems: string[] = [];
  const warnings: string[] = [];
  const spec = release?.spec ?? r.spec;
  const template = release && !r.retired ? renderTemplate(r, fleet, release, warnings) : undefined;
  const previous = r.target && r.deployed && !r.retired ? renderTemplate(r, fleet, r.deployed, []) : undefined;
  if (release && !release.image) problems.push(`version ${release.versionId} has no image`);
  const replicas = wantedReplicas(r);
  if (template && template.ports.some((p) => p.hostPort) && replicas > 1)
    problems.push(`a component with a host port runs one replica (two cannot bind 127.0.0.1:${template.ports.find((p) => p.hostPort)!.hostPort}); scale to 1`);
  return {
    componentId: r.id,
    tenantId: r.tenantId,
    appId: r.appId,
    names,
    template,
    previous,
    deployedVersionId: r.deployed?.versionId,
    replicas,
    stateful: spec.volumes.length > 0,
    // What the rollout recorded when it began; the service's settings for anything else.
    ...(r.maxSurge || r.maxUnavailable
      ? { maxSurge: r.maxSurge, maxUnavailable: r.maxUnavailable }
      : { maxSurge: settings.maxSurge, maxUnavailable: settings.maxUnavailable }),
    paused: r.paused,
    operation: r.operation,
    operationFinished: r.operation ? r.finished.has(r.operation.eventId) : false,
    retired: r.retired,
    problems,
    warnings,
  };
}

/** One release of a component as the template its replicas are made from. */
export function renderTemplate(r: ComponentRecord, fleet: Fleet, release: Release, warnings: string[]): ReplicaTemplate {
  const names = namesOf(r);
  const spec = release.spec;
  const env: TemplateEnv[] = spec.env.map((e) => envOf(r.id, e));
  const own = new Set(env.map((e) => e.name));
  for (const depName of spec.dependsOn) {
    const dep = fleet.byName(r.appId, depName);
    if (!dep) {
      warnings.push(`dependency ${depName} does not exist in app ${r.appId}`);
      continue;
    }
    // The component's own variables win over what a dependency provides.
    for (const e of dependencyEnv(dep)) {
      if (own.has(e.name)) continue;
      own.add(e.name);
      env.push(e);
    }
  }
  env.push({ name: 'WHARF_COMPONENT_ID', value: r.id, secret: false }, { name: 'WHARF_VERSION_ID', value: release.versionId, secret: false });
  const body: Omit<ReplicaTemplate, 'hash'> = {
    versionId: release.versionId,
    image: release.image,
    env,
    cpuMillis: spec.cpuMillis,
    memoryMib: spec.memoryMib,
    ports: spec.ports.map((p) => ({ port: p.port, protocol: p.protocol === 'tcp' ? 'tcp' : 'http', ...(p.hostPort ? { hostPort: p.hostPort } : {}) })),
    volumes: spec.volumes.map((v) => ({ name: v.name, mountPath: v.mountPath, sizeMib: v.sizeMib })),
    aliases: [serviceHost(names)],
    probe: probeOf(spec),
    generation: release.generation,
    placement: { ...spec.placement },
  };
  return { ...body, hash: hashOf(body) };
}
