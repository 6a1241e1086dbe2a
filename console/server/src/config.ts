import { fields, z } from '@wharf/config';
import { tlsConfigShape } from '@wharf/pki';
import { httpLimitsShape } from '@wharf/service-kit';

export const consoleConfigShape = {
  WHARF_ETCD_ENDPOINTS: fields.endpoints('https://127.0.0.1:32379'),
  WHARF_CONSOLE_ETCD_PREFIX: fields
    .etcdPrefix('/wharf-console')
    .describe("the console's own etcd key root (users, data centers, sessions); never a data center's"),
  WHARF_HTTP_PORT: fields.port(32600),
  WHARF_HTTP_HOST: z.string().default('127.0.0.1').describe('address the console binds to'),
  WHARF_CONSOLE_SECRET_KEY: z
    .string()
    .optional()
    .describe('32-byte key data-center tokens are sealed with at rest: 64 hex characters or base64 (required unless WHARF_DEV_MODE=1)'),
  WHARF_DEV_MODE: fields.flag(false),
  WHARF_CONSOLE_FIRST_USER: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a DNS-1123 label')
    .default('admin')
    .describe('name of the first (admin) user, made with a printed password when the console has no user'),
  WHARF_CONSOLE_WEB_DIR: z.string().optional().describe('the built web UI to serve (default: console/web/dist beside this package)'),
  WHARF_CONSOLE_SECURE_COOKIES: fields.flag(false),
  WHARF_CONSOLE_SESSION_TTL_MS: fields.positiveInt(12 * 3600_000, 'ms a session lasts after sign-in'),
  WHARF_CONSOLE_DC_TIMEOUT_MS: fields.positiveInt(1500, 'ms one call to a data center may take before it counts as unreachable'),
  WHARF_CONSOLE_DC_BACKOFF_MAX_MS: fields.positiveInt(30_000, 'longest wait between tries of a data center that is down'),
  WHARF_CONSOLE_LOGIN_LIMIT: fields.positiveInt(10, 'sign-in attempts per client address and user per minute'),
  WHARF_LOG_LEVEL: fields.logLevel(),
  ...httpLimitsShape,
  ...tlsConfigShape,
};

export type ConsoleConfig = z.infer<z.ZodObject<typeof consoleConfigShape>>;
