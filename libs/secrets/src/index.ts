/**
 * @wharf/secrets: secrets sealed at rest with the data center's key (AES-256-GCM bound to
 * a context): secret env values (api-gateway seals, app-manager opens into containers only) and
 * the credentials a user gives for private build sources (api-gateway seals, the builder opens).
 */
export { SecretBox, secretContext } from './secret-box';
export {
  credentialContext,
  hasSealedSecrets,
  openSourceCredentials,
  sealSourceCredentials,
  type PlainSourceCredentials,
  type SealedCredentialField,
} from './source-credentials';
