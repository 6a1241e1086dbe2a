import { fields, z } from '@wharf/config';
import { hostProblem } from '@wharf/routing';
import { httpLimitsShape } from '@wharf/service-kit';
import { tlsConfigShape } from '@wharf/pki';

export const apiConfigShape = {
  WHARF_ETCD_ENDPOINTS: fields.endpoints('https://127.0.0.1:32379'),
  WHARF_ETCD_PREFIX: fields.etcdPrefix(),
  WHARF_MQ_ADDR: fields.hostPort('127.0.0.1:32401'),
  WHARF_EVENTLOG_ADDR: fields.hostPort().optional().describe("event-log's gRPC HOST:PORT, for operations' steps (optional)"),
  WHARF_HTTP_PORT: fields.port(32400),
  WHARF_HTTP_HOST: z.string().default('127.0.0.1').describe('address the REST API binds to'),
  WHARF_SECRET_KEY: z.string().optional().describe('32-byte key for secrets at rest: 64 hex characters or base64 (required unless WHARF_DEV_MODE=1)'),
  WHARF_DEV_MODE: fields.flag(false),
  WHARF_ADMIN_TOKEN: z
    .string()
    .optional()
    .describe('the admin token to create on first start (wharf_<16 alphanumerics>_<43 base64url>); printed once when not given'),
  WHARF_EVENTLOG_HTTP_URL: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe("event-log's HTTP base URL (socket.io and operation history), proxied under this API's address (optional)"),
  WHARF_DC_NAME: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a DNS-1123 label')
    .default('wharf')
    .describe('the name this data center advertises in GET /api/v1/info'),
  WHARF_PUBLIC_URL: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe("this API's address as clients reach it (default: the request's Host), advertised as the websocket URL"),
  WHARF_LB_DOMAIN: z
    .string()
    .default('localhost')
    .refine((d) => !d.startsWith('*.') && hostProblem(d) === undefined, 'must be a lowercase DNS name')
    .describe("the data center's domain, as lb-manager's WHARF_LB_DOMAIN: components' default hosts are under it, and no route may take another name in it"),
  WHARF_LOG_LEVEL: fields.logLevel(),
  ...httpLimitsShape,
  ...tlsConfigShape,
};

export type ApiConfig = z.infer<z.ZodObject<typeof apiConfigShape>>;
