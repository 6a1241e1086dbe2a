/**
 * @wharf/secrets: secrets sealed at rest with the data center's key (AES-256-GCM bound to
 * a context), and the sealing of the credentials a user gives for private build sources.
 */
export { SecretBox } from './secret-box';
export {
  credentialContext,
  hasSealedSecrets,
  openSourceCredentials,
  sealSourceCredentials,
  type PlainSourceCredentials,
  type SealedCredentialField,
} from './source-credentials';
