import bcrypt from 'bcryptjs';
import type { PasswordHasher } from '../domain/ports';

/**
 * bcryptjs: pure JavaScript (no native build to approve on these machines), the same
 * $2b$ hashes as the C implementation. Cost 12 by default (~0.25 s on one core here);
 * tests pass a lower cost.
 */
export class BcryptHasher implements PasswordHasher {
  constructor(private readonly cost = 12) {}

  hash(password: string): Promise<string> {
    return bcrypt.hash(password, this.cost);
  }

  verify(password: string, hash: string): Promise<boolean> {
    return bcrypt.compare(password, hash);
  }
}
