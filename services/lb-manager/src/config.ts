import { fields, z } from '@wharf/config';
import { tlsConfigShape } from '@wharf/pki';
import { hostProblem } from '@wharf/routing';
import { httpLimitsShape } from '@wharf/service-kit';
import { isIP } from 'node:net';

const seconds = (def: number, what: string) => fields.positiveInt(def, `${what}, seconds`);
/** nginx needs a real port: 0 ("any free port") means nothing to it. */
const listenPort = (def: number) => z.coerce.number().int().min(1).max(65535).default(def).describe('a TCP port, 1-65535');

/** Every setting of lb-manager, from the environment (or WHARF_CONFIG_FILE). */
export const lbConfigShape = {
  WHARF_ETCD_ENDPOINTS: fields.endpoints('https://127.0.0.1:32379'),
  WHARF_ETCD_PREFIX: fields.etcdPrefix(),
  WHARF_HTTP_HOST: z.string().default('127.0.0.1').describe("address lb-manager's own HTTP endpoints (probes, metrics, /routes) bind to"),
  WHARF_HTTP_PORT: fields.port(32410),
  WHARF_LOG_LEVEL: fields.logLevel(),
  WHARF_LB_DOMAIN: z
    .string()
    .default('localhost')
    .refine((d) => !d.startsWith('*.') && hostProblem(d) === undefined, 'must be a lowercase DNS name')
    .describe("the data center's domain: default hosts are <component>.<app>.<tenant>.<domain>"),
  WHARF_LB_LISTEN_ADDRESS: z
    .string()
    .default('127.0.0.1')
    .refine((a) => isIP(a) !== 0, 'must be an IP address')
    .describe('address nginx listens on for HTTP, HTTPS and TCP routes (0.0.0.0 for every interface)'),
  WHARF_LB_HTTP_PORT: listenPort(32480),
  WHARF_LB_HTTPS_PORT: listenPort(32443),
  WHARF_LB_DATA_DIR: z
    .string()
    .regex(/^\/[A-Za-z0-9._\/-]+$/, 'must be an absolute path of A-Z a-z 0-9 . _ - /')
    .default(`${process.cwd()}/.wharf/lb`)
    .describe("where the gateway's nginx instances keep their prefixes (http/, stream/)"),
  WHARF_LB_NGINX_BIN: z.string().default('/usr/sbin/nginx').describe('the nginx binary (Debian: /usr/sbin/nginx)'),
  WHARF_LB_NGINX_MODULES_DIR: z
    .string()
    .regex(/^\/[A-Za-z0-9._\/-]+$/, 'must be an absolute path')
    .default('/usr/lib/nginx/modules')
    .describe("directory of nginx's dynamic modules"),
  WHARF_LB_WORKER_PROCESSES: z
    .string()
    .default('auto')
    .refine((v) => v === 'auto' || /^[1-9][0-9]{0,2}$/.test(v), 'must be auto or 1-999')
    .describe('nginx worker processes per instance: auto or a number'),
  WHARF_LB_WORKER_CONNECTIONS: fields.positiveInt(4096, 'connections per nginx worker'),
  WHARF_LB_CONNECT_TIMEOUT_S: seconds(5, 'connecting to a replica'),
  WHARF_LB_REQUEST_TIMEOUT_S: seconds(60, 'waiting on a replica between two reads or writes (also a websocket idle)'),
  WHARF_LB_IDLE_TIMEOUT_S: seconds(65, "a client's idle keep-alive connection"),
  WHARF_LB_CLIENT_TIMEOUT_S: seconds(30, "reading a client's request head and body"),
  WHARF_LB_CLIENT_MAX_BODY_MIB: fields.positiveInt(64, 'largest request body, MiB'),
  WHARF_LB_TCP_IDLE_TIMEOUT_S: seconds(600, 'an idle TCP route session'),
  WHARF_LB_WORKER_SHUTDOWN_TIMEOUT_S: seconds(60, 'how long old nginx workers may finish after a reload'),
  WHARF_LB_RESYNC_MS: fields.positiveInt(1000, 'how often nginx is checked against the desired state (e.g. restarted empty), ms'),
  WHARF_LB_STOP_NGINX_ON_EXIT: fields.flag(true),
  WHARF_SECRET_KEY: z
    .string()
    .optional()
    .describe("the data center's secret key (64 hex characters or base64 of 32 bytes): opens the private keys of users' certificates"),
  ...httpLimitsShape,
  ...tlsConfigShape,
};

export type LbConfig = z.infer<z.ZodObject<typeof lbConfigShape>>;
