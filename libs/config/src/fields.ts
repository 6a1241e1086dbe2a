import { z } from 'zod';

// describe() goes last: zod keeps the description on the outermost schema only.
function withDefault<T extends z.ZodType>(schema: T, def: unknown, description: string) {
  return (def === undefined ? schema : schema.default(def as never)).describe(description);
}

/** Reusable, self-describing field types for config shapes. */
export const fields = {
  port: (def?: number) => withDefault(z.coerce.number().int().min(0).max(65535), def, 'a TCP port, 0-65535 (0 = any free port)'),
  hostPort: (def?: string) => withDefault(z.string().regex(/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/, 'must be HOST:PORT'), def, 'HOST:PORT, e.g. 127.0.0.1:7001'),
  endpoints: (def?: string) =>
    withDefault(
      z
        .string()
        .transform((s) =>
          s
            .split(',')
            .map((e) => e.trim())
            .filter(Boolean),
        )
        .pipe(z.array(z.url({ protocol: /^https?$/ })).min(1)),
      def,
      'comma-separated http(s) URLs, e.g. http://127.0.0.1:2379',
    ),
  /** The root every etcd key of the data center lives under (each service of one data center uses the same). */
  etcdPrefix: (def = '/wharf') =>
    z
      .string()
      .regex(/^\/[A-Za-z0-9._\-/]*[A-Za-z0-9._-]$/, 'must look like /name')
      .default(def)
      .describe('etcd key root, e.g. /wharf'),
  positiveInt: (def: number, what: string) => z.coerce.number().int().positive().default(def).describe(`a positive integer: ${what}`),
  logLevel: () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('a pino level'),
  flag: (def: boolean) =>
    z
      .enum(['true', 'false', '1', '0'])
      .default(def ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1')
      .describe('true or false'),
};
