import { fields, z } from '@wharf/config';
import { NODE_ROLES, nodeIdFromHostname, nodeIdProblem, parseLabelList } from '@wharf/nodes';
import { tlsConfigShape } from '@wharf/pki';
import { httpLimitsShape } from '@wharf/service-kit';
import { hostname } from 'node:os';

const percent = (def: number, what: string) => z.coerce.number().min(1).max(100).default(def).describe(`a percentage 1-100: ${what}`);

/** Every setting of node-manager, from the environment (or WHARF_CONFIG_FILE). */
export const nodeManagerConfigShape = {
  WHARF_ETCD_ENDPOINTS: fields.endpoints('https://127.0.0.1:32379'),
  WHARF_ETCD_PREFIX: fields.etcdPrefix(),
  WHARF_HTTP_PORT: fields.port(32408),
  WHARF_HTTP_HOST: z.string().default('127.0.0.1').describe('address the HTTP endpoints (probes, metrics, /node) bind to'),
  WHARF_NODE_ID: z
    .string()
    .default(nodeIdFromHostname(hostname()))
    .refine((id) => nodeIdProblem(id) === undefined, {
      message: 'must be 1-52 characters of a-z, 0-9, "-" and ".", starting and ending with a letter or digit',
    })
    .describe(
      "this machine's node id (default: the host name); on Kubernetes the node's name (a DaemonSet sets it from the downward API, fieldRef spec.nodeName)",
    ),
  WHARF_NODE_ADDRESS: z
    .string()
    .regex(/^[A-Za-z0-9.:-]{1,253}$/, 'must be an IP address or host name')
    .default('127.0.0.1')
    .describe('where the machine is reached'),
  WHARF_NODE_ROLES: z
    .string()
    .default(NODE_ROLES.join(','))
    .transform((s) =>
      s
        .split(',')
        .map((r) => r.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(NODE_ROLES)).min(1))
    .describe(`comma-separated roles at first registration: ${NODE_ROLES.join(', ')} (later changes go through api-gateway)`),
  WHARF_NODE_LABELS: z
    .string()
    .default('')
    .transform((s, ctx) => {
      try {
        return parseLabelList(s, 'WHARF_NODE_LABELS');
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    })
    .describe('comma-separated name=value labels at first registration (Kubernetes syntax)'),
  WHARF_NODE_LEASE_TTL_S: z.coerce
    .number()
    .int()
    .min(2)
    .max(300)
    .default(5)
    .describe('seconds: a node whose node-manager is silent this long is ERROR_DETECTED'),
  WHARF_NODE_REPORT_MS: fields.positiveInt(2000, 'how often the health conditions are checked and the heartbeat value rewritten, ms'),
  WHARF_NODE_FAIL_AFTER: fields.positiveInt(3, 'failing checks in a row before a condition fails the node'),
  WHARF_NODE_DISK_PATH: z.string().default('/').describe('the filesystem whose space disk_pressure and capacity report'),
  WHARF_NODE_DISK_PRESSURE_PCT: percent(90, 'disk use at which disk_pressure fails'),
  WHARF_NODE_MEMORY_PRESSURE_PCT: percent(95, 'memory use at which memory_pressure fails'),
  WHARF_NODE_CLOCK_SKEW_MS: fields.positiveInt(2000, "largest difference from the reference clock (the Docker Engine's) before clock_skew fails, ms"),
  WHARF_NODE_WATCH: fields.flag(true).describe("true or false: stand in the election of the one node-manager that watches every node's lease"),
  WHARF_RUNTIME: z
    .enum(['docker', 'kubernetes'])
    .default('docker')
    .describe(
      "the runtime of the data center: docker (one machine) or kubernetes (runtime_reachable is the node's kubelet; the elected watcher makes the cluster's nodes follow Wharf's: labels, cordon, drain)",
    ),
  WHARF_KUBECONFIG: z.string().optional().describe("kubeconfig file of the cluster (WHARF_RUNTIME=kubernetes); unset: the pod's in-cluster service account"),
  WHARF_KUBE_SYNC_MS: fields.positiveInt(2000, "how often the watcher makes the Kubernetes nodes follow Wharf's (also at once on every node change), ms"),
  WHARF_KUBE_DRAIN_MS: fields.positiveInt(500, 'how soon the next pass comes while a node drains, ms'),
  WHARF_DOCKER_SOCKET: z.string().default('/var/run/docker.sock').describe('the Docker Engine unix socket (runtime_reachable, node tasks)'),
  WHARF_DATA_CENTER: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a DNS label')
    .default('dc1')
    .describe("this data center (app-manager's): node tasks list and prune only what carries it"),
  WHARF_MQ_ADDR: fields.hostPort().optional().describe('mq, for node tasks (none: this node takes no tasks)'),
  WHARF_EVENTLOG_ADDR: fields.hostPort().optional().describe("event-log, for node tasks' steps"),
  WHARF_LOG_LEVEL: fields.logLevel(),
  ...httpLimitsShape,
  ...tlsConfigShape,
};
