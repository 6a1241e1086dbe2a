import { ConfigError, fields, z } from '@wharf/config';
import { readTlsMaterial, TlsMaterialError, type TransportSecurity } from './tls-material';

/** The transport settings every service has (spread into its config shape). */
export const tlsConfigShape = {
  WHARF_TLS_CA_FILE: z.string().min(1).optional().describe('PEM file of the data-center CA (.wharf/pki/ca.crt): the only issuer this process trusts'),
  WHARF_TLS_CERT_FILE: z.string().min(1).optional().describe("PEM file of this service's certificate (.wharf/pki/<service>.crt)"),
  WHARF_TLS_KEY_FILE: z.string().min(1).optional().describe("PEM file of this service's private key (.wharf/pki/<service>.key)"),
  WHARF_INSECURE_DEV: fields
    .flag(false)
    .describe('true or false; true with no WHARF_TLS_* files: gRPC and etcd in plaintext, every caller admitted (development only, never a data center)'),
};

export interface TlsConfig {
  WHARF_TLS_CA_FILE?: string;
  WHARF_TLS_CERT_FILE?: string;
  WHARF_TLS_KEY_FILE?: string;
  WHARF_INSECURE_DEV: boolean;
}

const VARIABLE = { ca: 'WHARF_TLS_CA_FILE', cert: 'WHARF_TLS_CERT_FILE', key: 'WHARF_TLS_KEY_FILE' } as const;

/**
 * The transport security a service runs with. Mutual TLS needs all three files, and the
 * certificate must be `identity`'s; with none of them the service refuses to start unless
 * WHARF_INSECURE_DEV=1 (then `warn` is told, loudly). Throws a ConfigError naming the variable.
 */
export function transportSecurityFromConfig(config: TlsConfig, identity: string, warn: (message: string) => void): TransportSecurity {
  const given = { ca: config.WHARF_TLS_CA_FILE, cert: config.WHARF_TLS_CERT_FILE, key: config.WHARF_TLS_KEY_FILE };
  const missing = (Object.keys(given) as (keyof typeof given)[]).filter((k) => !given[k]);
  if (missing.length === 3 && config.WHARF_INSECURE_DEV) {
    warn(
      'WHARF_INSECURE_DEV=1 and no WHARF_TLS_* files: gRPC and etcd run WITHOUT TLS and every caller may call every method. Development only: never run a data center like this',
    );
    return { mode: 'insecure-dev' };
  }
  if (missing.length) {
    const why =
      missing.length === 3
        ? 'missing: services talk only over mutual TLS (npm run up makes the files under .wharf/pki/); WHARF_INSECURE_DEV=1 runs without, for development only'
        : `missing while ${(Object.keys(given) as (keyof typeof given)[])
            .filter((k) => given[k])
            .map((k) => VARIABLE[k])
            .join(' and ')} ${missing.length === 2 ? 'is' : 'are'} set: mutual TLS needs all three`;
    throw new ConfigError(missing.map((k) => `${VARIABLE[k]}: ${why}`));
  }
  try {
    return { mode: 'mtls', tls: readTlsMaterial({ caFile: given.ca!, certFile: given.cert!, keyFile: given.key! }, identity) };
  } catch (err) {
    if (err instanceof TlsMaterialError) throw new ConfigError([`${VARIABLE[err.input]}: ${given[err.input]}: ${err.message}`]);
    throw err;
  }
}

/** transportSecurityFromConfig for a process's start-up: prints what is wrong and exits 78 (EX_CONFIG), as loadConfigOrExit does. */
export function transportSecurityOrExit(config: TlsConfig, identity: string, warn: (message: string) => void): TransportSecurity {
  try {
    return transportSecurityFromConfig(config, identity, warn);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(78);
  }
}
