/** @wharf/secrets: sealing of secret values at rest (api-gateway seals, app-manager opens into containers only). */
export { SecretBox, secretContext } from './secret-box';
