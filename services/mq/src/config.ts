import { fields, z } from '@wharf/config';
import { httpLimitsShape } from '@wharf/service-kit';
import { tlsConfigShape } from '@wharf/pki';

/** Every setting of mq, from the environment (or WHARF_CONFIG_FILE). */
export const mqConfigShape = {
  WHARF_ETCD_ENDPOINTS: fields.endpoints('https://127.0.0.1:32379'),
  WHARF_ETCD_PREFIX: fields.etcdPrefix(),
  WHARF_MQ_GRPC_ADDR: fields.hostPort('127.0.0.1:32401'),
  WHARF_HTTP_PORT: fields.port(32402),
  WHARF_HTTP_HOST: z.string().default('127.0.0.1').describe('address the HTTP endpoints bind to'),
  WHARF_MQ_DEFAULT_LEASE_MS: fields.positiveInt(30_000, 'lease when Dequeue gives none, ms'),
  WHARF_MQ_MAX_ATTEMPTS: fields.positiveInt(5, 'deliveries before the dead letter when Enqueue gives none'),
  WHARF_MQ_BACKOFF_BASE_MS: fields.positiveInt(1_000, 'first retry delay after a Nack, ms'),
  WHARF_MQ_BACKOFF_MAX_MS: fields.positiveInt(300_000, 'longest retry delay, ms'),
  WHARF_MQ_SWEEP_INTERVAL_MS: fields.positiveInt(1_000, 'how often expired leases are looked for, ms'),
  WHARF_ETCD_QUOTA_BYTES: fields.positiveInt(
    2 * 1024 * 1024 * 1024,
    "etcd's --quota-backend-bytes, for its health figures and maintenance (etcd does not report it)",
  ),
  WHARF_ETCD_MAINTENANCE: fields
    .flag(true)
    .describe('true or false: stand in the election of the one instance that compacts and defragments etcd and disarms NOSPACE'),
  WHARF_ETCD_MAINTENANCE_INTERVAL_MS: fields.positiveInt(10_000, 'how often the elected instance looks at etcd, ms'),
  WHARF_ETCD_HISTORY_RETENTION_MS: fields.positiveInt(
    600_000,
    "etcd history kept, ms: a watch away for less resumes from etcd's history (a tenth of it under quota pressure)",
  ),
  WHARF_LOG_LEVEL: fields.logLevel(),
  ...httpLimitsShape,
  ...tlsConfigShape,
};
