import { fields, z } from '@wharf/config';
import { tlsConfigShape } from '@wharf/pki';
import { httpLimitsShape } from '@wharf/service-kit';

/** Every setting of the builder, from the environment (or WHARF_CONFIG_FILE). */
export const builderConfigShape = {
  WHARF_ETCD_ENDPOINTS: fields.endpoints('http://127.0.0.1:32379'),
  WHARF_ETCD_PREFIX: fields.etcdPrefix(),
  WHARF_MQ_ADDR: fields.hostPort('127.0.0.1:32401'),
  WHARF_EVENTLOG_ADDR: fields.hostPort('127.0.0.1:32403'),
  WHARF_HTTP_HOST: z.string().default('127.0.0.1').describe('address /livez, /readyz and /metrics bind to'),
  WHARF_HTTP_PORT: fields.port(32407),
  WHARF_SECRET_KEY: z
    .string()
    .regex(/^(?:[0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=)$/, 'must be 32 bytes as 64 hex characters or base64')
    .optional()
    .describe("the data center's secret key (opens sealed build credentials; builds with credentials fail without it)"),
  WHARF_BUILDER_REGISTRY: fields.hostPort('127.0.0.1:32500').describe("the data center's registry, HOST:PORT"),
  WHARF_BUILDER_REGISTRY_CREDENTIALS_FILE: z
    .string()
    .optional()
    .describe('a file holding user:password for the registry (npm run up writes .wharf/registry/credentials)'),
  WHARF_BUILDER_REGISTRY_USERNAME: z.string().optional().describe('registry user (instead of the credentials file)'),
  WHARF_BUILDER_REGISTRY_PASSWORD: z.string().optional().describe('registry password (instead of the credentials file)'),
  WHARF_BUILDER_WORK_DIR: z
    .string()
    .default('/var/tmp/wharf-builder')
    .describe('scratch space of builds and stack images, shared by the builders of one machine'),
  WHARF_BUILDER_CONCURRENCY: fields.positiveInt(2, 'builds this instance runs at once'),
  WHARF_BUILDER_LEASE_MS: fields.positiveInt(
    30_000,
    'mq lease of a build task, renewed while it runs; another builder takes the task this long after one dies',
  ),
  WHARF_BUILDER_TIMEOUT_S: fields.positiveInt(1800, 'longest build, seconds'),
  WHARF_BUILDER_MEMORY_MIB: fields.positiveInt(2048, 'memory limit of each RUN step of a build, MiB'),
  WHARF_BUILDER_CPUS: z.coerce.number().min(0).max(256).default(1).describe('CPUs of each RUN step of a build (0 = no limit)'),
  WHARF_BUILDER_MAX_REPO_MIB: fields.positiveInt(512, 'largest checked-out repository, MiB'),
  WHARF_BUILDER_CA_BUNDLE: z
    .string()
    .default('/etc/ssl/certs/ca-certificates.crt')
    .describe('CA bundle builds (as a build secret) and git clones over HTTPS trust; add a private git host CA to it'),
  WHARF_BUILDER_DOCKER_CLI: z.string().default('/usr/bin/docker').describe("Debian's docker 20.10 CLI (BuildKit built in)"),
  WHARF_DOCKER_SOCKET: z.string().default('/var/run/docker.sock').describe("the Docker Engine's unix socket"),
  WHARF_BUILDER_STACK_SUITE: z
    .string()
    .regex(/^[a-z]+$/)
    .optional()
    .describe("Debian release of the stack images (default: the host's)"),
  WHARF_BUILDER_DEBIAN_MIRROR: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe("Debian mirror for debootstrap (default: the host's apt sources)"),
  WHARF_BUILDER_STACK_REPOSITORY: z
    .string()
    .regex(/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/, 'must be a repository name like wharf-stack')
    .default('wharf-stack')
    .describe('repository of the language stack images (the Debian base is always wharf-stack/base)'),
  WHARF_BUILDER_KEEP_IMAGES: fields.flag(false),
  WHARF_BUILDER_DEFAULT_PORT: fields.port(8080).describe('port of generated images when the component declares none'),
  WHARF_BUILDER_NO_PROXY: z.string().optional().describe('no_proxy passed to builds'),
  WHARF_BUILDER_GIT_IDLE_TIMEOUT_S: fields.positiveInt(120, 'git is stopped after this long without output'),
  WHARF_BUILDER_INSTANCE: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,64}$/)
    .optional()
    .describe('name of this instance as mq lease holder (default host-pid)'),
  WHARF_LOG_LEVEL: fields.logLevel(),
  ...tlsConfigShape,
  ...httpLimitsShape,
};
