export {
  ADMIN_IDENTITY,
  ALL_IDENTITIES,
  ETCD_IDENTITY,
  IDENTITY_URI_PREFIX,
  SERVICE_IDENTITIES,
  identityUri,
  isIdentityName,
  loopbackServerName,
} from './identities';
export type { Identity, ServiceIdentity } from './identities';
export { identityOfCertificate, type NamedCertificate } from './peer-identity';
export { issueTlsMaterial } from './issue-material';
export { createCa, issueCertificate, type CaOptions, type CertificatePem, type IssueOptions } from './issuer';
export { checkTlsMaterial, identityOfPem, readTlsMaterial, TlsMaterialError, type TlsMaterial, type TransportSecurity } from './tls-material';
export { ensurePki, type EnsurePkiOptions, type EnsurePkiResult, type IdentityFiles } from './pki-directory';
export { tlsConfigShape, transportSecurityFromConfig, transportSecurityOrExit, type TlsConfig } from './tls-config';
