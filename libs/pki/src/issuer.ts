import { createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { identityUri, isIdentityName } from './identities';

// Why @peculiar/x509 over node-forge or the openssl CLI: it builds certificates on node's own
// WebCrypto, so ECDSA P-256 keys and signatures are native (a key pair and a certificate in
// about a millisecond; node-forge has no ECDSA and its pure-JS RSA key generation takes
// 100 ms to seconds), it sets any notBefore/notAfter (the tests need an expired certificate;
// OpenSSL 3.0's `x509 -req` cannot back-date one) and runs in-process, with no child process
// per certificate for tests that make many. It is loaded lazily: services only read
// certificates, with node:crypto, and never pay for its start-up (~0.25 s).
type X509 = typeof import('@peculiar/x509');
let loaded: Promise<X509> | undefined;
function x509(): Promise<X509> {
  loaded ??= (async () => {
    // tsyringe (under @peculiar/x509) needs the Reflect metadata API present when it loads.
    await import('reflect-metadata');
    const lib = await import('@peculiar/x509');
    lib.cryptoProvider.set(webcrypto as never);
    return lib;
  })();
  return loaded;
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

/** PEM text of a certificate and its private key (PKCS#8). */
export interface CertificatePem {
  certPem: string;
  keyPem: string;
}

export interface CaOptions {
  /** The CA's subject CN, e.g. "Wharf data-center CA". */
  commonName?: string;
  validDays?: number;
  now?: Date;
}

export interface IssueOptions {
  /** The identity: CN and SAN URI spiffe://wharf/<identity>. */
  identity: string;
  /** Host names and IP addresses the certificate is valid for besides 127.0.0.1, ::1 and localhost. */
  hosts?: string[];
  validDays?: number;
  /** Both default from now and validDays; set them to make a not-yet-valid or expired certificate. */
  notBefore?: Date;
  notAfter?: Date;
}

function serial(): string {
  // 16 random bytes with the top bit clear: a positive INTEGER, unique without a counter.
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f;
  return bytes.toString('hex');
}

async function keyPair(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']) as Promise<webcrypto.CryptoKeyPair>;
}

async function pkcs8Pem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
function generalName(host: string): { type: 'ip' | 'dns'; value: string } {
  return IPV4.test(host) || host.includes(':') ? { type: 'ip', value: host } : { type: 'dns', value: host };
}

/** A new self-signed CA (10 years by default) that signs certificates and nothing else. */
export async function createCa(options: CaOptions = {}): Promise<CertificatePem> {
  const lib = await x509();
  const now = options.now ?? new Date();
  const keys = await keyPair();
  const cert = await lib.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${options.commonName ?? 'Wharf data-center CA'}`,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + (options.validDays ?? 3650) * DAY_MS),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new lib.BasicConstraintsExtension(true, 0, true),
      new lib.KeyUsagesExtension(lib.KeyUsageFlags.keyCertSign | lib.KeyUsageFlags.cRLSign, true),
      await lib.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await pkcs8Pem(keys.privateKey) };
}

/**
 * A certificate for one identity, signed by the CA, usable as a TLS server and as a client
 * (every service is both), valid for 127.0.0.1, ::1 and localhost plus `hosts`.
 */
export async function issueCertificate(ca: CertificatePem, options: IssueOptions): Promise<CertificatePem> {
  if (!isIdentityName(options.identity)) throw new Error(`identity ${JSON.stringify(options.identity)}: must match [a-z][a-z0-9-]{0,62}`);
  const lib = await x509();
  const caCert = new lib.X509Certificate(ca.certPem);
  const caKey = await webcrypto.subtle.importKey(
    'pkcs8',
    createPrivateKey(ca.keyPem).export({ format: 'der', type: 'pkcs8' }),
    { name: 'ECDSA', namedCurve: 'P-256' },
    false,
    ['sign'],
  );
  const notBefore = options.notBefore ?? new Date(Date.now() - 60_000); // a minute back: clocks of one data center drift a little
  const notAfter = options.notAfter ?? new Date(notBefore.getTime() + (options.validDays ?? 365) * DAY_MS);
  const keys = await keyPair();
  const hosts = [...new Set(['localhost', '127.0.0.1', '::1', ...(options.hosts ?? [])])];
  const cert = await lib.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${options.identity}`,
    issuer: caCert.subject,
    notBefore,
    notAfter,
    signingKey: caKey,
    publicKey: keys.publicKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new lib.BasicConstraintsExtension(false, undefined, true),
      new lib.KeyUsagesExtension(lib.KeyUsageFlags.digitalSignature, true),
      new lib.ExtendedKeyUsageExtension([lib.ExtendedKeyUsage.serverAuth, lib.ExtendedKeyUsage.clientAuth]),
      new lib.SubjectAlternativeNameExtension([{ type: 'url', value: identityUri(options.identity) }, ...hosts.map(generalName)]),
      await lib.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await lib.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await pkcs8Pem(keys.privateKey) };
}
