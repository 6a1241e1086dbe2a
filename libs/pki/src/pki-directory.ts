import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_IDENTITIES } from './identities';
import { createCa, issueCertificate, type CertificatePem } from './issuer';

/** Where one identity's files are in a PKI directory. */
export interface IdentityFiles {
  caFile: string;
  certFile: string;
  keyFile: string;
}

export interface EnsurePkiOptions {
  identities?: readonly string[];
  /** Extra host names / IPs for every certificate (other machines of the data center). */
  hosts?: string[];
  /** A certificate expiring sooner than this is issued again. */
  renewWithinDays?: number;
  validDays?: number;
}

export interface EnsurePkiResult {
  dir: string;
  caFile: string;
  /** True when the CA was made by this call. */
  createdCa: boolean;
  /** Identities whose certificate this call issued (new, expiring, other CA, missing host). */
  issued: string[];
  files(identity: string): IdentityFiles;
}

/** Written beside, then renamed: a reader never sees half a key, and keys are never world-readable. */
function writeAtomic(path: string, text: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

function needsIssue(certFile: string, ca: X509Certificate, hosts: string[], renewBefore: Date): boolean {
  if (!existsSync(certFile)) return true;
  try {
    const cert = new X509Certificate(readFileSync(certFile));
    if (!cert.verify(ca.publicKey)) return true;
    if (new Date(cert.validTo) < renewBefore) return true;
    const names = new Set((cert.subjectAltName ?? '').split(', ').map((entry) => entry.replace(/^(DNS|IP Address):/, '')));
    return hosts.some((h) => !names.has(h));
  } catch {
    return true;
  }
}

/**
 * The data center's PKI in a directory: the CA is made once (ca.crt, ca.key) and kept; each
 * identity gets <name>.crt and <name>.key, issued again only when missing, expiring, signed
 * by another CA or lacking a host. Idempotent, so `npm run up` calls it on every start.
 */
export async function ensurePki(dir: string, options: EnsurePkiOptions = {}): Promise<EnsurePkiResult> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const caFile = join(dir, 'ca.crt');
  const caKeyFile = join(dir, 'ca.key');
  let createdCa = false;
  if (!existsSync(caFile) || !existsSync(caKeyFile)) {
    const ca = await createCa();
    writeAtomic(caKeyFile, ca.keyPem, 0o600);
    writeAtomic(caFile, ca.certPem, 0o644);
    createdCa = true;
  }
  const ca: CertificatePem = { certPem: readFileSync(caFile, 'utf8'), keyPem: readFileSync(caKeyFile, 'utf8') };
  const caCert = new X509Certificate(ca.certPem);
  const hosts = options.hosts ?? [];
  const renewBefore = new Date(Date.now() + (options.renewWithinDays ?? 30) * 86_400_000);
  const files = (identity: string): IdentityFiles => ({ caFile, certFile: join(dir, `${identity}.crt`), keyFile: join(dir, `${identity}.key`) });
  const issued: string[] = [];
  for (const identity of options.identities ?? ALL_IDENTITIES) {
    const f = files(identity);
    if (!needsIssue(f.certFile, caCert, hosts, renewBefore)) continue;
    const pem = await issueCertificate(ca, { identity, hosts, validDays: options.validDays });
    writeAtomic(f.keyFile, pem.keyPem, 0o600);
    writeAtomic(f.certFile, pem.certPem, 0o644);
    issued.push(identity);
  }
  return { dir, caFile, createdCa, issued, files };
}
