import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { identityOfCertificate } from './peer-identity';

/** What a process needs for mutual TLS: the CA it trusts, and its own certificate and key (PEM). */
export interface TlsMaterial {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
  /** The identity its certificate proves. */
  identity: string;
  /** When its certificate expires. */
  notAfter: Date;
}

/**
 * How a process talks to its peers (gRPC and etcd): mutual TLS, or, for development only
 * and only when asked for by name (WHARF_INSECURE_DEV=1), plaintext with no identities.
 */
export type TransportSecurity = { mode: 'mtls'; tls: TlsMaterial } | { mode: 'insecure-dev' };

/** Which input of the material is wrong, so a caller can name its own setting. */
export class TlsMaterialError extends Error {
  constructor(
    readonly input: 'ca' | 'cert' | 'key',
    message: string,
  ) {
    super(message);
    this.name = 'TlsMaterialError';
  }
}

export function subjectCn(cert: X509Certificate): string | undefined {
  return cert.subject
    .split('\n')
    .find((line) => line.startsWith('CN='))
    ?.slice(3);
}

/** The identity a PEM certificate proves (CN and SAN URI agreeing), or undefined. */
export function identityOfPem(pem: string | Buffer): string | undefined {
  const cert = new X509Certificate(pem);
  return identityOfCertificate({ subject: { CN: subjectCn(cert) }, subjectaltname: cert.subjectAltName });
}

function parse(input: 'ca' | 'cert', pem: Buffer): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw new TlsMaterialError(input, `not a PEM certificate (${(err as Error).message})`);
  }
}

/**
 * Checks PEM material before a process serves with it, so a wrong file stops it at start
 * with the reason instead of failing every handshake later: the certificate is signed by the
 * CA, is valid now, proves an identity (the expected one, when given) and matches the key.
 */
export function checkTlsMaterial(pem: { ca: Buffer; cert: Buffer; key: Buffer }, expectIdentity?: string, now = new Date()): TlsMaterial {
  const ca = parse('ca', pem.ca);
  if (!ca.ca) throw new TlsMaterialError('ca', `${ca.subject.replace(/\n/g, ', ')} is not a CA certificate`);
  const cert = parse('cert', pem.cert);
  if (!cert.verify(ca.publicKey)) throw new TlsMaterialError('cert', `not signed by the CA (${ca.subject.replace(/\n/g, ', ')})`);
  const notAfter = new Date(cert.validTo);
  if (now < new Date(cert.validFrom) || now > notAfter) throw new TlsMaterialError('cert', `not valid now (valid ${cert.validFrom} to ${cert.validTo})`);
  const identity = identityOfCertificate({ subject: { CN: subjectCn(cert) }, subjectaltname: cert.subjectAltName });
  if (!identity) throw new TlsMaterialError('cert', 'proves no Wharf identity (needs CN=<name> and SAN URI spiffe://wharf/<name>)');
  if (expectIdentity && identity !== expectIdentity) throw new TlsMaterialError('cert', `is ${identity}'s certificate, not ${expectIdentity}'s`);
  let key;
  try {
    key = createPrivateKey(pem.key);
  } catch (err) {
    throw new TlsMaterialError('key', `not a PEM private key (${(err as Error).message})`);
  }
  if (!cert.checkPrivateKey(key)) throw new TlsMaterialError('key', "is not the certificate's key");
  return { ...pem, identity, notAfter };
}

/** Reads and checks PEM files (see checkTlsMaterial). */
export function readTlsMaterial(files: { caFile: string; certFile: string; keyFile: string }, expectIdentity?: string): TlsMaterial {
  const read = (input: 'ca' | 'cert' | 'key', path: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new TlsMaterialError(input, `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  return checkTlsMaterial({ ca: read('ca', files.caFile), cert: read('cert', files.certFile), key: read('key', files.keyFile) }, expectIdentity);
}
