/** Encrypts a secret env value at rest, bound to `context` (component and variable); the AES adapter implements it. */
export interface SecretSealer {
  seal(plain: string, context: string): Uint8Array;
}
