import { ALL_IDENTITIES, ensurePki, type IdentityFiles, type TransportSecurity, readTlsMaterial } from '@wharf/pki';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A data-center PKI in a temp dir: a CA and a certificate for every identity, as `npm run up` makes under .wharf/pki. */
export interface TestPki {
  readonly dir: string;
  readonly caFile: string;
  files(identity: string): IdentityFiles;
  /** The identity's TLS material, as a service loads it (for clients a test makes). */
  security(identity: string): TransportSecurity;
  /** WHARF_TLS_CA_FILE, WHARF_TLS_CERT_FILE, WHARF_TLS_KEY_FILE for a service process of that identity. */
  env(identity: string): Record<string, string>;
  destroy(): void;
}

/** Makes one (a few ms a certificate: ECDSA P-256 through WebCrypto). */
export async function createTestPki(identities: readonly string[] = ALL_IDENTITIES): Promise<TestPki> {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-pki-'));
  const pki = await ensurePki(dir, { identities });
  const cache = new Map<string, TransportSecurity>();
  return {
    dir,
    caFile: pki.caFile,
    files: pki.files,
    security(identity) {
      let s = cache.get(identity);
      if (!s) cache.set(identity, (s = { mode: 'mtls', tls: readTlsMaterial(pki.files(identity), identity) }));
      return s;
    },
    env(identity) {
      const f = pki.files(identity);
      return { WHARF_TLS_CA_FILE: f.caFile, WHARF_TLS_CERT_FILE: f.certFile, WHARF_TLS_KEY_FILE: f.keyFile };
    },
    destroy: () => rmSync(dir, { recursive: true, force: true }),
  };
}
