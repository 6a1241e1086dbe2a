import { issueCertificate, type CertificatePem, type IssueOptions } from './issuer';
import type { TlsMaterial } from './tls-material';

/**
 * A certificate for an identity as TLS material in memory, without files (tests, tools). An
 * expired or not-yet-valid one can be made too: it is not checked (see checkTlsMaterial).
 */
export async function issueTlsMaterial(ca: CertificatePem, options: IssueOptions): Promise<TlsMaterial> {
  const pem = await issueCertificate(ca, options);
  const notAfter = options.notAfter ?? new Date(Date.now() + (options.validDays ?? 365) * 86_400_000);
  return { ca: Buffer.from(ca.certPem), cert: Buffer.from(pem.certPem), key: Buffer.from(pem.keyPem), identity: options.identity, notAfter };
}
