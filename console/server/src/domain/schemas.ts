import { z } from 'zod';

/** Request bodies of the console's REST API, validated at the boundary; each message says what is expected. */

const DNS1123 = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
export const dnsName = z.string().regex(DNS1123, 'must be a DNS-1123 label: lowercase a-z, 0-9 and "-", 1-63 characters, starting and ending alphanumeric');

export const userName = dnsName;
export const password = z.string().min(12, 'must be at least 12 characters').max(72, 'must be at most 72 bytes (bcrypt reads no further)');

export const loginSchema = z.object({ name: z.string().min(1, 'is required').max(63), password: z.string().min(1, 'is required').max(1024) }).strict();
export const createUserSchema = z.object({ name: userName, password, admin: z.boolean().default(false) }).strict();
export const changePasswordSchema = z.object({ current_password: z.string().min(1, 'is required').max(1024), new_password: password }).strict();

export const apiUrl = z
  .string()
  .max(2048)
  .refine((u) => {
    try {
      const url = new URL(u);
      return (url.protocol === 'http:' || url.protocol === 'https:') && !url.username && !url.password && !url.search && !url.hash;
    } catch {
      return false;
    }
  }, 'must be the http(s):// base URL of a data center API, without credentials, query or fragment (e.g. http://127.0.0.1:32400)')
  .transform((u) => u.replace(/\/+$/, '').replace(/\/api\/v1$/, ''));

export const dcToken = z
  .string()
  .max(200)
  .regex(/^wharf_[A-Za-z0-9]{16}_[A-Za-z0-9_-]{43}$/, 'must be a data-center token: wharf_<16 letters or digits>_<43 characters>');

export const addDataCenterSchema = z.object({ name: dnsName, api_url: apiUrl, token: dcToken }).strict();
export const credentialSchema = z.object({ token: dcToken }).strict();

const IMAGE =
  /^(?:[a-z0-9]+(?:[.-][a-z0-9]+)*(?::[0-9]{1,5})?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

/**
 * A component created in one or several data centers at once. The data centers validate the
 * spec themselves; what a form sends is checked here first so bad input never reaches any of
 * them (nothing half-created across data centers).
 */
export const federatedCreateSchema = z
  .object({
    targets: z
      .array(z.object({ dc: z.string().min(1, 'is required').max(64), tenant: z.string().min(1, 'is required').max(255) }).strict())
      .min(1, 'choose at least one data center')
      .max(20),
    app: dnsName,
    name: dnsName,
    source: z.union([
      z.object({ image: z.string().max(255).regex(IMAGE, 'must be an image reference like nginx:1.27 or registry:5000/team/app:1.2') }).strict(),
      z
        .object({
          git: z
            .object({
              url: z
                .string()
                .max(2048)
                .regex(/^(https?|ssh|git):\/\/[^\s]+$|^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+$/, 'must be an https://, ssh:// or git:// URL (or git@host:path)'),
              branch: z
                .string()
                .max(255)
                .regex(/^(?!-)(?!.*\.\.)[A-Za-z0-9._/-]+$/, 'must be a branch name')
                .default('main'),
              dockerfile: z
                .string()
                .max(1024)
                .regex(/^(?!\/)(?!.*\.\.)[A-Za-z0-9._/-]*$/, 'must be a relative path inside the repository')
                .default(''),
            })
            .strict(),
        })
        .strict(),
    ]),
    ports: z
      .array(z.object({ port: z.number().int().min(1, 'must be 1-65535').max(65535, 'must be 1-65535'), public: z.boolean().default(false) }).strict())
      .max(20)
      .default([]),
    replicas: z.number().int().min(0, 'must be 0-100').max(100, 'must be 0-100').default(1),
    /** Build (and deploy) right after creating. */
    deploy: z.boolean().default(true),
  })
  .strict();

export type FederatedCreate = z.infer<typeof federatedCreateSchema>;

const routeHost = z
  .string()
  .min(1, 'is required')
  .max(253)
  .regex(
    /^(\*\.)?([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/,
    'must be a DNS host name like shop.example.com (or *.example.com)',
  );
const routePort = z.number().int().min(1, 'must be 1-65535').max(65535, 'must be 1-65535');
const certificatePem = z
  .string()
  .min(1, 'is required')
  .max(65536)
  .refine((pem) => pem.includes('-----BEGIN CERTIFICATE-----'), 'must be PEM: -----BEGIN CERTIFICATE----- (the certificate first, then its chain)')
  .refine((pem) => !/PRIVATE KEY-----/.test(pem), 'must hold certificates only: the private key goes in its own field (a certificate is shown to every reader)')
  .describe("the host's certificate and its chain, PEM (leaf first); shown to whoever can read the component");

/**
 * A route's certificate: PEM chain and its key. The key is write-only (the data centers never
 * return it): `keep_key` keeps the one stored for the route instead of sending it again.
 */
export const certificateInputSchema = z
  .object({
    certificate_pem: certificatePem,
    private_key_pem: z.string().max(16384).optional().describe('its private key, unencrypted PEM; stored sealed by the data center, never shown again'),
    keep_key: z.boolean().default(false).describe('keep the private key the data center stores for this route (no private_key_pem)'),
  })
  .strict()
  .superRefine((t, ctx) => {
    const key = t.private_key_pem?.trim() ?? '';
    if (t.keep_key && key) ctx.addIssue({ code: 'custom', path: ['private_key_pem'], message: 'leave it empty to keep the stored key (or do not keep it)' });
    else if (!t.keep_key && !key) ctx.addIssue({ code: 'custom', path: ['private_key_pem'], message: 'is required (or keep the stored key)' });
    else if (!t.keep_key && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key))
      ctx.addIssue({ code: 'custom', path: ['private_key_pem'], message: 'must be an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)' });
  });

/** One gateway route of a component: HTTP (host + path prefix -> port, TLS or not) or TCP (listen port -> port). */
export const routeInputSchema = z.discriminatedUnion(
  'kind',
  [
    z
      .object({
        kind: z.literal('http'),
        host: routeHost,
        path_prefix: z
          .string()
          .max(1024)
          .regex(/^\/[^\s]*$/, 'must start with "/"')
          .default('/'),
        port: routePort.describe("the component's HTTP port it goes to"),
        https_redirect: z.boolean().default(false),
        tls: certificateInputSchema.nullable().default(null).describe("null: plain HTTP (HTTPS with the data center's default certificate)"),
      })
      .strict(),
    z
      .object({
        kind: z.literal('tcp'),
        listen_port: routePort.describe("the gateway's port"),
        port: routePort.describe("the component's TCP port it goes to"),
      })
      .strict(),
  ],
  { error: () => 'must be http or tcp' },
);

export type RouteInput = z.infer<typeof routeInputSchema>;
export type CertificateInput = z.infer<typeof certificateInputSchema>;
