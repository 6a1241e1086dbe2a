import { z } from 'zod';
import { OPERATION_KINDS } from './operation-kinds';

/** Request bodies, validated at the boundary. Every message names what is expected. */

export const DNS1123 = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
export const dnsName = z.string().regex(DNS1123, 'must be a DNS-1123 label: lowercase a-z, 0-9 and "-", 1-63 characters, starting and ending alphanumeric');

// registry[:port]/path[:tag][@sha256:digest], as docker's reference grammar, without whitespace or option-looking values.
const IMAGE =
  /^(?:[a-z0-9]+(?:[.-][a-z0-9]+)*(?::[0-9]{1,5})?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
export const imageRef = z.string().max(255).regex(IMAGE, 'must be an image reference like registry.example:5000/team/app:1.2 or nginx@sha256:<64 hex>');

/** https, ssh and git URLs and scp-like git@host:path; never a local path or an option. */
export const gitUrl = z
  .string()
  .max(2048)
  .refine((u) => !u.startsWith('-'), 'must not start with "-"')
  .refine((u) => {
    if (/^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[A-Za-z0-9._\/~-]+$/.test(u)) return true; // git@host:org/repo.git
    try {
      const url = new URL(u);
      return ['https:', 'ssh:', 'git:'].includes(url.protocol) && url.hostname.length > 0 && !/[\s]/.test(u);
    } catch {
      return false;
    }
  }, 'must be an https://, ssh:// or git:// URL (or git@host:path); file paths and other schemes are refused');

const gitRef = z
  .string()
  .max(255)
  .regex(/^(?!-)(?!.*\.\.)[A-Za-z0-9._\/-]+$/, 'must be a branch name: A-Z a-z 0-9 . _ / -, not starting with "-", no ".."');
const relPath = z
  .string()
  .max(1024)
  .regex(/^(?!\/)(?!.*\.\.)[A-Za-z0-9._\/-]*$/, 'must be a relative path inside the repository, without ".."');
const port = z.number().int().min(1, 'must be 1-65535').max(65535, 'must be 1-65535');
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be an environment variable name: letters, digits, "_", not starting with a digit');

export const sourceSchema = z.union([
  z.object({ image: imageRef }).strict(),
  z.object({ git: z.object({ url: gitUrl, branch: gitRef.default('main'), sub_dir: relPath.default(''), dockerfile: relPath.default('') }).strict() }).strict(),
]);

const routeHost = z
  .string()
  .max(253)
  .regex(/^(\*\.)?([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a DNS host name');
const certificatePem = z
  .string()
  .max(65536)
  .refine(
    (pem) => !/PRIVATE KEY-----/.test(pem),
    'must hold certificates only: the private key goes in private_key_pem (the certificate is shown to every reader)',
  )
  .describe("the host's certificate and its chain, PEM (leaf first)");
const privateKeyPem = z.string().max(16384).describe('its private key, unencrypted PEM; stored sealed, never shown again');
const httpRouteFields = {
  host: routeHost,
  path_prefix: z
    .string()
    .max(1024)
    .regex(/^\/[^\s]*$/, 'must start with "/"')
    .default('/'),
  port,
  https_redirect: z.boolean().default(false),
};
const routeSchema = z
  .object({ ...httpRouteFields, tls: z.object({ certificate_pem: certificatePem, private_key_pem: privateKeyPem }).strict().optional() })
  .strict();
const tcpPortSchema = z.object({ listen_port: port, port }).strict();

export const componentSpecSchema = z
  .object({
    source: sourceSchema,
    ports: z
      .array(z.object({ port, protocol: z.enum(['http', 'tcp']).default('http'), public: z.boolean().default(false) }).strict())
      .max(20)
      .default([]),
    env: z
      .array(z.object({ name: envName, value: z.string().max(32768), secret: z.boolean().default(false) }).strict())
      .max(200)
      .default([]),
    cpu_millis: z.number().int().min(10).max(64000).default(500),
    memory_mib: z.number().int().min(16).max(262144).default(512),
    replicas: z.number().int().min(0).max(100).default(1),
    probe: z
      .object({
        kind: z.enum(['http', 'tcp', 'command']),
        path: z
          .string()
          .max(1024)
          .regex(/^\/[^\s]*$/, 'must be an absolute URL path')
          .optional(),
        port: port.optional(),
        command: z.array(z.string().max(4096)).max(64).optional(),
        initial_delay_s: z.number().int().min(0).max(3600).default(0),
        period_s: z.number().int().min(1).max(3600).default(10),
        failure_threshold: z.number().int().min(1).max(100).default(3),
      })
      .strict()
      .optional(),
    volumes: z
      .array(
        z
          .object({
            name: dnsName,
            mount_path: z
              .string()
              .max(1024)
              .regex(/^\/(?!.*\.\.)[^\s]*$/, 'must be an absolute path without ".."'),
            size_mib: z.number().int().min(1).max(1048576),
          })
          .strict(),
      )
      .max(20)
      .default([]),
    depends_on: z.array(dnsName).max(50).default([]),
    routes: z.array(routeSchema).max(50).default([]),
    tcp_ports: z.array(tcpPortSchema).max(20).default([]),
    placement: z
      .record(z.string(), z.unknown())
      .default({})
      .describe("node labels the replicas need (Kubernetes syntax; kubernetes.io/hostname names one node): the pods' nodeSelector on Kubernetes"),
  })
  .strict();

export const createComponentSchema = componentSpecSchema.extend({ name: dnsName }).strict();
/**
 * PATCH of a component: the fields given replace the spec's (routes, TCP ports), the rest is kept.
 * A TLS route may leave its private key out to keep the key this component already stores for
 * the host (the data center never returns it, so a client could not send it back).
 */
export const componentPatchSchema = z
  .object({
    routes: z
      .array(
        z
          .object({
            ...httpRouteFields,
            tls: z
              .object({
                certificate_pem: certificatePem,
                private_key_pem: privateKeyPem.optional().describe("leave it out to keep the key stored for key_from_host (default: the route's own host)"),
                key_from_host: routeHost
                  .optional()
                  .describe(
                    'with no private_key_pem: the host (a route of this component) whose stored key this route keeps, for a route moved to another host',
                  ),
              })
              .strict()
              .refine((t) => t.private_key_pem === undefined || t.key_from_host === undefined, {
                message: 'give either private_key_pem or key_from_host, not both',
                path: ['key_from_host'],
              })
              .nullable()
              .optional(),
          })
          .strict(),
      )
      .max(50)
      .optional()
      .describe('every HTTP route from now on'),
    tcp_ports: z.array(tcpPortSchema).max(20).optional().describe('every TCP port from now on'),
  })
  .strict()
  .refine((b) => b.routes !== undefined || b.tcp_ports !== undefined, { message: 'give routes and/or tcp_ports (the fields a PATCH can change)' });

export const createAppSchema = z.object({ name: dnsName, description: z.string().max(1024).default('') }).strict();
export const createTenantSchema = z.object({ name: dnsName }).strict();
export const createUserSchema = z.object({ name: dnsName, admin: z.boolean().default(false) }).strict();
export const createTokenSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[\w .-]+$/, 'must be letters, digits, space, "_", "." or "-"'),
    expires_in_days: z.number().int().min(1).max(3650).optional(),
  })
  .strict();
export const roleSchema = z.enum(['owner', 'developer', 'viewer']);
export const memberSchema = z.object({ user_id: dnsName, role: roleSchema }).strict();
export const memberRoleSchema = z.object({ role: roleSchema }).strict();
export const quotaSchema = z
  .object({
    max_apps: z.number().int().min(0).max(100000),
    max_components: z.number().int().min(0).max(100000),
    max_cpu_millis: z.number().int().min(0).max(10_000_000),
    max_memory_mib: z.number().int().min(0).max(100_000_000),
  })
  .strict();
const versionIdField = z
  .string()
  .max(128)
  .regex(/^[A-Za-z0-9._-]+$/, 'must be a version id: A-Z a-z 0-9 . _ -');
const queue = z.boolean().default(false).describe('when another operation has no final status yet: run after it (202, queued) instead of answering 409');
const plain = (kind: 'start' | 'stop' | 'restart' | 'delete', what: string) =>
  z
    .object({ kind: z.literal(kind), queue })
    .strict()
    .describe(what);

/** One body per kind, each with exactly its arguments (the OpenAPI document shows them as a oneOf). */
export const operationSchema = z.discriminatedUnion(
  'kind',
  [
    z
      .object({
        kind: z.literal('build'),
        deploy_after: z.boolean().default(false).describe('when the build succeeds, roll the new version out under the same event_id'),
        queue,
      })
      .strict()
      .describe("build: a new version from the component's source"),
    z
      .object({
        kind: z.literal('deploy'),
        version_id: versionIdField.optional().describe('default: the current version, else the newest successful one'),
        queue,
      })
      .strict()
      .describe('deploy: run a built version'),
    plain('start', 'start: run the stopped replicas'),
    plain('stop', 'stop: stop every replica'),
    plain('restart', 'restart: a rolling restart'),
    z
      .object({
        kind: z.literal('scale'),
        replicas: z
          .number({ error: (issue) => (issue.input === undefined ? 'is required for scale' : undefined) })
          .int()
          .min(0, 'must be 0-100')
          .max(100, 'must be 0-100'),
        queue,
      })
      .strict()
      .describe('scale: set the number of replicas'),
    z
      .object({ kind: z.literal('upgrade'), version_id: versionIdField.optional().describe('default: the newest successful version'), queue })
      .strict()
      .describe('upgrade: a rolling update, gated by the health probe'),
    z
      .object({ kind: z.literal('rollback'), version_id: versionIdField.optional().describe('default: the previous version'), queue })
      .strict()
      .describe('rollback: a rolling update back to an earlier version'),
    plain('delete', 'delete: remove the replicas, then the component'),
    z
      .object({ kind: z.literal('pause') })
      .strict()
      .describe('pause: hold the running rollout where it is'),
    z
      .object({ kind: z.literal('resume') })
      .strict()
      .describe('resume: continue the paused rollout'),
  ],
  { error: () => `must be one of ${OPERATION_KINDS.join(', ')}` },
);
export type OperationRequest = z.infer<typeof operationSchema>;

// Query parameters: each route takes exactly its own (anything else is refused, naming it).
const limit = z.coerce.number().int().min(1).max(500).default(50);
const cursor = z.string().max(300).optional();
const nameFilter = z.string().max(63).optional().describe('only names containing this');

/** Routes that take no query parameter. */
export const noQuerySchema = z.object({}).strict();
/** Lists of users, tokens, tenants, apps and components. */
export const pageSchema = z.object({ limit, cursor, name: nameFilter }).strict();
export const memberPageSchema = z.object({ limit, cursor, name: nameFilter, role: roleSchema.optional() }).strict();
export const operationPageSchema = z
  .object({ limit, cursor, status: z.enum(['pending', 'running', 'success', 'failure', 'timeout']).optional(), kind: z.enum(OPERATION_KINDS).optional() })
  .strict();

/** ?queue=true: run after the component's running operation instead of answering 409. */
export const queueQuerySchema = z.object({ queue: z.enum(['true', 'false']).optional() }).strict();

export const versionPageSchema = z
  .object({
    limit,
    cursor: z.string().max(128).optional(),
    status: z
      .string()
      .max(32)
      .regex(/^[a-z_]+$/, 'must be a status name like success')
      .optional(),
  })
  .strict();

export type ComponentSpecInput = z.infer<typeof componentSpecSchema>;
export type CreateComponentInput = z.infer<typeof createComponentSchema>;
export type ComponentPatchInput = z.infer<typeof componentPatchSchema>;
export type RouteInput = ComponentSpecInput['routes'][number];
export type TcpPortInput = ComponentSpecInput['tcp_ports'][number];

/** Node routes (administrators only; @wharf/nodes checks labels, roles and task names with messages of its own). */
export const nodeStateSchema = z
  .object({
    action: z
      .enum(['cordon', 'uncordon', 'repair', 'offline'])
      .describe('cordon: no new replicas (READY -> INITED); uncordon: back to READY; repair: ERROR -> NEW; offline: removed'),
    reason: z.string().max(500).optional().describe('why, kept in the transition'),
  })
  .strict();
export const nodeLabelsSchema = z
  .object({ labels: z.record(z.string(), z.unknown()).describe('every label of the node from now on, Kubernetes syntax (name and value rules)') })
  .strict();
export const nodeRolesSchema = z.object({ roles: z.array(z.unknown()).max(4).describe('any of manage, compute, gateway, storage') }).strict();
export const nodeTaskSchema = z
  .object({
    task: z.string().max(64).describe('disk-usage, container-list, prune-images or health-check'),
    nodes: z.array(z.string().max(64)).min(1).max(100).describe('the node ids to run it on'),
  })
  .strict();
