import { Injectable } from '@nestjs/common';
import * as argon2 from 'argon2';

/**
 * argon2id with the OWASP minimum (m = 19 MiB, t = 2, p = 1). The `argon2` binding hashes on the
 * libuv thread pool, so hashing never blocks the event loop.
 */
export const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

@Injectable()
export class PasswordHasher {
  /** A real hash of a random secret, so an unknown account costs as much time as a known one. */
  private readonly decoy = argon2.hash(`decoy-${Math.random()}`, ARGON2_OPTIONS);

  hash(password: string): Promise<string> {
    return argon2.hash(password, ARGON2_OPTIONS);
  }

  /** Verifies against `hash`, or against the decoy when there is no hash (no such account). */
  async verify(hash: string | null | undefined, password: string): Promise<boolean> {
    try {
      const matches = await argon2.verify(hash ?? (await this.decoy), password);
      return matches && !!hash;
    } catch {
      return false; // a corrupt or foreign hash format never signs in
    }
  }

  /** True when the hash was made with other parameters than today's: rehash on the next sign-in. */
  needsRehash(hash: string): boolean {
    try {
      return argon2.needsRehash(hash, ARGON2_OPTIONS);
    } catch {
      return true;
    }
  }
}
