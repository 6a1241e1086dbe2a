import { SecretBox as SealedBox } from '@wharf/secrets';
import type { SecretSealer } from '../domain/secret-sealer';

/**
 * AES-256-GCM for secrets at rest (iv 12 | tag 16 | ciphertext, bound to a context): the one
 * box of @wharf/secrets, so app-manager and the builder open what api-gateway sealed.
 */
export class SecretBox extends SealedBox implements SecretSealer {}
