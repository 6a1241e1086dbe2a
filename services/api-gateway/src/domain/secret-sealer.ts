/**
 * Encrypts a secret at rest, bound to `context` (its component and name): secret env values,
 * route keys, webhook secrets. The AES adapter implements it. open throws for a value sealed
 * with another key or for another context.
 */
export interface SecretSealer {
  seal(plain: string, context: string): Uint8Array;
  open(sealed: Uint8Array, context: string): string;
}
