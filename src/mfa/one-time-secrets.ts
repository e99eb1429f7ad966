import { createHash, randomBytes } from 'node:crypto';

/** RFC 4648 base32 in lower case: no 0/1/8/9, so nothing reads as O, I, L or B. */
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

function base32(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** `abcdefgh…` → `abcd-efgh-…`, easier to read out and type. */
function grouped(text: string): string {
  return text.match(/.{1,4}/g)!.join('-');
}

/** Case, spaces and dashes do not matter when a secret is typed back. */
export function normalizeTyped(text: string): string {
  return text.toLowerCase().replace(/[\s-]/g, '');
}

/**
 * Recovery codes and app passwords are random enough (80 and 160 bits) that a plain SHA-256 is
 * enough to store them: nobody can try 2^80 candidates against a leaked hash. That also lets a
 * code be found by its hash in one indexed statement, without an argon2 run per stored code.
 */
export function hashTyped(text: string): string {
  return createHash('sha256').update(normalizeTyped(text)).digest('hex');
}

/** One recovery code: 80 random bits as 16 base32 characters, `xxxx-xxxx-xxxx-xxxx`. */
export function newRecoveryCode(): string {
  return grouped(base32(randomBytes(10)));
}

export const RECOVERY_CODE_COUNT = 10;

/** One app password: 160 random bits as 32 base32 characters in groups of four. */
export function newAppPassword(): string {
  return grouped(base32(randomBytes(20)));
}
