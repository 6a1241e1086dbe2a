import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// The per-run kustomize overlay on top of deploy/overlays/test: what depends on the test cluster.
// The cluster has no DNS (Debian packages no CoreDNS), so every Service of namespace wharf gets a
// ClusterIP fixed here and every Wharf pod the same names in its /etc/hosts (hostAliases): the
// manifests keep dialling services by name, and the certificates keep holding names.

/** Services of deploy/base with a ClusterIP (the headless ones, etcd and event-log-headless, have none). */
export const PINNED_SERVICES = [
  'etcd-0',
  'etcd-1',
  'etcd-2',
  'registry',
  'mq',
  'event-log',
  'event-log-0',
  'event-log-1',
  'event-log-2',
  'api-gateway',
  'app-manager',
  'lb-manager',
  'gateway',
  'console',
] as const;

/** Every pod template of deploy/base (the first container of each is named like its workload). */
export const WORKLOADS = [
  ['StatefulSet', 'etcd'],
  ['StatefulSet', 'event-log'],
  ['Deployment', 'mq'],
  ['Deployment', 'api-gateway'],
  ['Deployment', 'app-manager'],
  ['Deployment', 'builder'],
  ['Deployment', 'lb-manager'],
  ['Deployment', 'console'],
  ['Deployment', 'registry'],
  ['DaemonSet', 'node-manager'],
] as const;

export interface RunOverlayInput {
  /** The repo's deploy/ directory (copied: kustomize reads bases below the kustomization). */
  deployDir: string;
  /** Where to write the copy and the overlay. */
  outDir: string;
  /** The cluster's Service range, a /24 like 10.96.3.0/24. */
  serviceCidr: string;
  namespace: string;
  /** The services image's tag (deploy/images/build.sh --print-ref). */
  imageTag: string;
  /** The registry's NodePort (also the host port a test proxies to it). */
  registryPort: number;
}

export interface RunOverlay {
  /** The directory to `kubectl apply -k`. */
  dir: string;
  /** name -> ClusterIP of every pinned Service. */
  ips: Record<(typeof PINNED_SERVICES)[number], string>;
}

/** ClusterIPs from .200 up of the cluster's /24 (the allocator hands out the low ones first; .1 is the apiserver's). */
export function pinnedIps(serviceCidr: string): RunOverlay['ips'] {
  const m = /^(\d+\.\d+\.\d+)\.0\/24$/.exec(serviceCidr);
  if (!m) throw new Error(`service CIDR ${serviceCidr}: expected a /24`);
  return Object.fromEntries(PINNED_SERVICES.map((name, i) => [name, `${m[1]}.${200 + i}`])) as RunOverlay['ips'];
}

export function writeRunOverlay(input: RunOverlayInput): RunOverlay {
  const root = join(input.outDir, 'deploy');
  cpSync(join(input.deployDir, 'base'), join(root, 'base'), { recursive: true });
  cpSync(join(input.deployDir, 'overlays', 'test'), join(root, 'overlays', 'test'), { recursive: true });
  const dir = join(root, 'overlays', 'run');
  mkdirSync(dir, { recursive: true });
  const ips = pinnedIps(input.serviceCidr);
  const ns = input.namespace;
  const aliases = PINNED_SERVICES.map((name) => ({
    ip: ips[name],
    hostnames: [name, `${name}.${ns}`, `${name}.${ns}.svc`, `${name}.${ns}.svc.cluster.local`],
  }));
  const patches = new Map<string, unknown>();
  for (const name of PINNED_SERVICES)
    patches.set(`service-${name}.yaml`, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name },
      spec: {
        clusterIP: ips[name],
        ...(name === 'registry' ? { ports: [{ name: 'http', port: 5000, nodePort: input.registryPort }] } : {}),
      },
    });
  for (const [kind, name] of WORKLOADS)
    patches.set(`hosts-${name}.yaml`, { apiVersion: 'apps/v1', kind, metadata: { name }, spec: { template: { spec: { hostAliases: aliases } } } });
  // JSON is YAML; one patch per file (kustomize 2.0 reads a file of JSON as one document).
  for (const [file, patch] of patches) writeFileSync(join(dir, file), JSON.stringify(patch) + '\n');
  writeFileSync(
    join(dir, 'kustomization.yaml'),
    [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      `namespace: ${ns}`,
      'bases:',
      '  - ../test',
      'patchesStrategicMerge:',
      ...[...patches.keys()].map((f) => `  - ${f}`),
      'images:',
      '  - name: wharf/services',
      `    newTag: "${input.imageTag}"`,
      'configMapGenerator:',
      '  - name: wharf-settings',
      '    behavior: merge',
      '    literals:',
      `      - WHARF_REGISTRY=127.0.0.1:${input.registryPort}`,
      '',
    ].join('\n'),
  );
  return { dir, ips };
}
