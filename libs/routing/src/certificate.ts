import { createPrivateKey, X509Certificate } from 'node:crypto';

/** A failed check says why and which input it is about (`private_key`: the key does not parse or does not belong to the certificate). */
export type CertificateCheck =
  { ok: true; notAfterMs: number; fingerprint256: string; subject: string } | { ok: false; reason: string; part: 'certificate' | 'private_key' };

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** A wildcard route host is checked with a label no real certificate names, so only a wildcard certificate covers it. */
const sampleHostFor = (host: string) => (host.startsWith('*.') ? `wharf-wildcard-check${host.slice(1)}` : host);

/**
 * Whether a user's certificate may be served for `host`: PEM that parses, a private key that
 * belongs to the first (leaf) certificate, a chain where each certificate issued the one
 * before it, the host among its names, and valid at `nowMs`. The reason says which check
 * failed, in words a user can act on. Pure (node:crypto parses, nothing is read or written).
 */
export function checkCertificate(input: { certificatePem: string; privateKeyPem: string; host: string; nowMs: number }): CertificateCheck {
  const pems = input.certificatePem.match(PEM_CERT) ?? [];
  const bad = (reason: string, part: 'certificate' | 'private_key' = 'certificate'): CertificateCheck => ({ ok: false, reason, part });
  if (pems.length === 0) return bad('the certificate is not PEM (expected -----BEGIN CERTIFICATE-----)');
  let chain: X509Certificate[];
  try {
    chain = pems.map((p) => new X509Certificate(p));
  } catch (err) {
    return bad(`the certificate does not parse: ${(err as Error).message}`);
  }
  const leaf = chain[0];
  let key;
  try {
    key = createPrivateKey(input.privateKeyPem);
  } catch (err) {
    return bad(`the private key does not parse (expected an unencrypted PEM key): ${(err as Error).message}`, 'private_key');
  }
  if (!leaf.checkPrivateKey(key)) return bad('the private key does not belong to the certificate', 'private_key');
  for (let i = 1; i < chain.length; i++) {
    if (!chain[i - 1].checkIssued(chain[i])) return bad(`certificate ${i + 1} of the chain did not issue certificate ${i} (chain out of order?)`);
  }
  if (!leaf.checkHost(sampleHostFor(input.host))) {
    const names = leaf.subjectAltName ?? leaf.subject;
    return bad(`the certificate does not match host ${input.host} (it names ${names.replace(/\n/g, ', ')})`);
  }
  const notBefore = Date.parse(leaf.validFrom);
  const notAfter = Date.parse(leaf.validTo);
  if (!Number.isFinite(notBefore) || !Number.isFinite(notAfter)) return bad('the certificate has unreadable validity dates');
  if (input.nowMs >= notAfter) return bad(`the certificate expired on ${new Date(notAfter).toISOString()}`);
  if (input.nowMs < notBefore) return bad(`the certificate is not valid before ${new Date(notBefore).toISOString()}`);
  return { ok: true, notAfterMs: notAfter, fingerprint256: leaf.fingerprint256, subject: leaf.subject };
}
