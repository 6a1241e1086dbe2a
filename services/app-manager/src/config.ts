import { fields, z } from '@wharf/config';
import { tlsConfigShape } from '@wharf/pki';
import { httpLimitsShape } from '@wharf/service-kit';

const list = (def: string, what: string) =>
  z
    .string()
    .default(def)
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^[A-Za-z0-9.\-[\]:]+$/, 'must be host or host:port')))
    .describe(what);

/** Every setting of app-manager, from the environment (or WHARF_CONFIG_FILE). */
export const appManagerConfigShape = {
  WHARF_ETCD_ENDPOINTS: fields.endpoints('http://127.0.0.1:32379'),
  WHARF_ETCD_PREFIX: fields.etcdPrefix(),
  WHARF_MQ_ADDR: fields.hostPort('127.0.0.1:32401'),
  WHARF_EVENTLOG_ADDR: fields.hostPort('127.0.0.1:32403'),
  WHARF_APPMGR_GRPC_ADDR: fields.hostPort('127.0.0.1:32405'),
  WHARF_HTTP_PORT: fields.port(32406),
  WHARF_HTTP_HOST: z.string().default('127.0.0.1').describe('address the HTTP endpoints (probes, metrics) bind to'),
  WHARF_SECRET_KEY: z.string().optional().describe("the data center's secret key (api-gateway's): 64 hex characters or base64 of 32 bytes"),
  WHARF_DEV_MODE: fields.flag(false),
  WHARF_DATA_CENTER: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a DNS label')
    .default('dc1')
    .describe('this data center: every replica, volume and network carries it, and nothing else is ever touched'),
  WHARF_RUNTIME: z
    .enum(['docker', 'kubernetes'])
    .default('docker')
    .describe('the runtime driver: docker (one machine, the embedded default) or kubernetes (a cluster rolls the components out)'),
  WHARF_KUBECONFIG: z.string().optional().describe("kubeconfig file of the cluster (WHARF_RUNTIME=kubernetes); unset: the pod's in-cluster service account"),
  WHARF_KUBERNETES_NAME_PREFIX: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,30}$/, 'must be a short DNS label starting with a letter')
    .default('wharf')
    .describe('first part of every tenant namespace (<prefix>-<tenant>); data centers sharing a cluster use different ones'),
  WHARF_KUBERNETES_GATEWAY_CIDRS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^[0-9a-fA-F.:]+\/\d{1,3}$/, 'must be CIDRs like 10.250.0.0/24')))
    .describe("comma-separated CIDRs the gateway reaches pods from (its nodes), admitted by every tenant's NetworkPolicy"),
  WHARF_KUBERNETES_CLUSTER_DOMAIN: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, 'must be a DNS name like cluster.local')
    .optional()
    .describe("the cluster's DNS domain when it runs DNS: dependencies are reached by Service name; unset: by ClusterIP"),
  WHARF_KUBERNETES_STORAGE_CLASS: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, 'must be a DNS name')
    .optional()
    .describe("storage class of volumes' claims (the cluster's default when unset)"),
  WHARF_DOCKER_SOCKET: z.string().default('/var/run/docker.sock').describe('the Docker Engine unix socket'),
  WHARF_DOCKER_NAME_PREFIX: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,30}$/, 'must be a short DNS label')
    .default('wharf')
    .describe('first part of container, network and volume names; data centers sharing an engine use different ones'),
  WHARF_DOCKER_PUBLISH_HOST: z
    .string()
    .regex(/^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1)$/, 'must be a loopback address')
    .default('127.0.0.1')
    .describe('loopback IP that published host ports bind to (never all interfaces: the gateway is the way in)'),
  WHARF_PULL_REGISTRIES: list('127.0.0.1:32500', 'comma-separated registry hosts images may be pulled from (any other image must be local)'),
  WHARF_REGISTRY_CREDENTIALS_FILE: z
    .string()
    .optional()
    .describe('a file holding user:password for pulls from the data center registry (first of WHARF_PULL_REGISTRIES)'),
  WHARF_APPMGR_INSTANCE: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/)
    .optional()
    .describe('this instance in the etcd member list (default: host-pid)'),
  WHARF_APPMGR_SLOTS: fields.positiveInt(16, 'component slots shared out between instances'),
  WHARF_APPMGR_LEASE_TTL_S: fields.positiveInt(5, 'seconds before a dead instance loses its components to the others'),
  WHARF_APPMGR_MAX_SURGE: z.coerce.number().int().min(0).max(100).default(1).describe('an integer 0-100: extra replicas during a rollout'),
  WHARF_APPMGR_MAX_UNAVAILABLE: z.coerce.number().int().min(0).max(100).default(0).describe('an integer 0-100: replicas that may be missing during a rollout'),
  WHARF_APPMGR_MAX_REPLICAS: fields.positiveInt(100, 'most replicas a component may have'),
  WHARF_APPMGR_PROGRESS_DEADLINE_MS: fields.positiveInt(600_000, 'an operation not in place after this long fails (a rollout is rolled back), ms'),
  WHARF_APPMGR_DRAIN_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(60_000)
    .default(1000)
    .describe('ms a retired replica stays out of the endpoints before it is stopped'),
  WHARF_APPMGR_STOP_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(10_000).describe('ms between SIGTERM and SIGKILL'),
  WHARF_APPMGR_BACKOFF_BASE_MS: fields.positiveInt(1000, 'first wait before a crashed replica is replaced, ms (doubles)'),
  WHARF_APPMGR_BACKOFF_MAX_MS: fields.positiveInt(60_000, 'longest wait before a crashed replica is replaced, ms'),
  WHARF_APPMGR_MIN_READY_MS: z.coerce.number().int().min(0).max(600_000).default(1000).describe('ms a replica without probe or port must run to be ready'),
  WHARF_APPMGR_RESYNC_MS: fields.positiveInt(5000, 'how often every component is looked at besides events, ms'),
  WHARF_APPMGR_TASK_LEASE_MS: fields.positiveInt(30_000, 'mq lease of a task while it is being accepted, ms'),
  WHARF_APPMGR_TASK_CONCURRENCY: fields.positiveInt(4, 'tasks of one topic accepted at once'),
  WHARF_LOG_LEVEL: fields.logLevel(),
  ...httpLimitsShape,
  ...tlsConfigShape,
};
