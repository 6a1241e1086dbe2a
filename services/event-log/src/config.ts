import { fields, z } from '@wharf/config';
import { tlsConfigShape } from '@wharf/pki';
import { httpLimitsShape } from '@wharf/service-kit';
import { hostname } from 'node:os';

/** Every setting of event-log, from the environment (or WHARF_CONFIG_FILE). */
export const eventLogConfigShape = {
  WHARF_ETCD_ENDPOINTS: fields.endpoints('https://127.0.0.1:32379'),
  WHARF_ETCD_PREFIX: fields.etcdPrefix(),
  WHARF_EVENTLOG_GRPC_ADDR: fields.hostPort('127.0.0.1:32403'),
  WHARF_EVENTLOG_ADVERTISE_GRPC: z
    .string()
    .regex(/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/, 'must be HOST:PORT')
    .optional()
    .describe('HOST:PORT other instances forward to (default: the bound gRPC address)'),
  WHARF_HTTP_PORT: fields.port(32404),
  WHARF_RUNTIME_LOGS: z
    .enum(['docker', 'kubernetes', 'none'])
    .default('docker')
    .describe("where replicas' runtime logs come from: docker (the Engine at WHARF_DOCKER_SOCKET), kubernetes (the cluster of WHARF_KUBECONFIG), none"),
  WHARF_KUBECONFIG: z.string().optional().describe("kubeconfig of the cluster (WHARF_RUNTIME_LOGS=kubernetes); unset: the pod's in-cluster service account"),
  WHARF_KUBERNETES_NAME_PREFIX: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,30}$/, 'must be a short DNS label starting with a letter')
    .default('wharf')
    .describe("first part of the tenant namespaces (app-manager's WHARF_KUBERNETES_NAME_PREFIX)"),
  WHARF_DATA_CENTER: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a DNS label')
    .default('dc1')
    .describe("this data center's name: only its replicas' logs are served (the label app-manager puts on them)"),
  WHARF_DOCKER_SOCKET: z.string().default('/var/run/docker.sock').describe('the Docker Engine unix socket'),
  WHARF_HTTP_HOST: z.string().default('127.0.0.1').describe('address HTTP and socket.io bind to'),
  WHARF_EVENTLOG_DATA_DIR: z
    .string()
    .min(1)
    .default('.wharf/eventlog')
    .describe('directory of the partition logs (shared by all instances: p-NNNN per partition)'),
  WHARF_EVENTLOG_PARTITIONS: z.coerce
    .number()
    .int()
    .min(1)
    .max(1024)
    .optional()
    .describe(
      'number of partitions of the event id space, 1-1024, fixed when the data dir is created (default: the count it was created with; 4 for a new one). More spread over more instances; fewer cost fewer durable writes',
    ),
  WHARF_EVENTLOG_CLUSTER: fields.flag(true),
  WHARF_EVENTLOG_INSTANCE: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must match [A-Za-z0-9._-]{1,64}')
    .default(
      `${hostname()
        .replace(/[^A-Za-z0-9._-]/g, '-')
        .slice(0, 40)}-${process.pid}`,
    )
    .describe('name of this instance in etcd'),
  WHARF_EVENTLOG_LEASE_TTL_S: z.coerce.number().int().min(2).max(60).default(5).describe('seconds, 2-60: how long a dead instance keeps its partitions'),
  WHARF_EVENTLOG_SEGMENT_BYTES: fields.positiveInt(64 * 1024 * 1024, 'segment file size before a new one starts, bytes'),
  WHARF_EVENTLOG_RETENTION_BYTES: fields.positiveInt(10 * 1024 * 1024 * 1024, 'total size kept on disk, bytes (oldest segments go first)'),
  WHARF_EVENTLOG_RETENTION_HOURS: fields.positiveInt(24 * 30, 'how long entries are kept, hours'),
  WHARF_EVENTLOG_OPERATION_TIMEOUT_MS: fields.positiveInt(10 * 60_000, 'an operation with no report for this long times out, ms'),
  WHARF_EVENTLOG_START_TIMEOUT_MS: fields.positiveInt(
    30 * 60_000,
    'a requested operation nothing reports on for this long after it could start (queued ones: after the one before finished) times out, ms',
  ),
  WHARF_EVENTLOG_SWEEP_INTERVAL_MS: fields.positiveInt(1000, 'how often timeouts are checked, ms'),
  WHARF_EVENTLOG_MAX_LINE_BYTES: fields.positiveInt(16 * 1024, 'longer lines are truncated with a marker, bytes'),
  WHARF_EVENTLOG_RATE_PER_SENDER: fields.positiveInt(50_000, 'frames per second one sender may send'),
  WHARF_EVENTLOG_RATE_BURST: fields.positiveInt(100_000, 'frames one sender may send in a burst'),
  WHARF_EVENTLOG_EMIT_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(1000)
    .default(0)
    .describe(
      'ms, 0-1000: least time between two socket.io broadcasts of one operation; entries arriving sooner go together in the next (0 = every commit at once)',
    ),
  WHARF_EVENTLOG_EMIT_MS_PER_WATCHER: z.coerce
    .number()
    .min(0)
    .max(10)
    .default(0.025)
    .describe('ms, 0-10: spacing per watcher of an operation, if longer (big rooms send fewer, larger messages)'),
  WHARF_EVENTLOG_MAX_EMIT_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(1000)
    .default(30)
    .describe('ms, 0-1000: the most the spacing between broadcasts of one operation grows to'),
  WHARF_EVENTLOG_LOAD_BATCH_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(1000)
    .default(20)
    .describe('ms, 0-1000: extra spacing between broadcasts when the streaming thread is busy (0 below 75 % event-loop use, this at 100 %)'),
  WHARF_EVENTLOG_DIRECT_FRAMES: fields
    .flag(true)
    .describe(
      "true: live entries are written to WebSocket subscribers as one ready frame each, under engine.io (much less CPU per subscriber); false: through socket.io's own broadcast",
    ),
  WHARF_EVENTLOG_HOT_ENTRIES: fields.positiveInt(2000, 'entries per operation kept in memory for catch-up'),
  WHARF_EVENTLOG_PUBLISH_STATUS: fields.flag(true),
  WHARF_LOG_LEVEL: fields.logLevel(),
  ...httpLimitsShape,
  ...tlsConfigShape,
};

export type EventLogConfig = z.infer<z.ZodObject<typeof eventLogConfigShape>>;
