import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { DomainError } from '../common/domain-error';

/** Longest password accepted; checked before hashing so nobody can make us hash megabytes. */
export const PASSWORD_MAX_LENGTH = 128;

/** For the API document (`@CheckedByService`): the length every new password must have (it must also not be common, nor the account's own e-mail, username or phone). */
export const NEW_PASSWORD_RULE = (config: Pick<AppConfig, 'passwordMinLength'>) => ({ minLength: config.passwordMinLength, maxLength: PASSWORD_MAX_LENGTH });

function loadCommonPasswords(): Set<string> {
  const text = readFileSync(join(__dirname, 'common-passwords.txt'), 'utf8');
  return new Set(
    text
      .split('\n')
      .filter((line) => line && !line.startsWith('#'))
      .map((line) => line.toLowerCase()),
  );
}

/** What a password must not equal. */
export interface PasswordIdentity {
  email?: string | null;
  username?: string | null;
  phone?: string | null;
}

/** The one password policy of every surface. */
@Injectable()
export class PasswordPolicy {
  private static common?: Set<string>;

  constructor(@Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'passwordMinLength'>) {}

  /** Throws `WeakPassword` with the reason the user can act on: strength, then the account's own identifiers. */
  check(password: unknown, identity: PasswordIdentity = {}): asserts password is string {
    this.checkStrength(password);
    this.checkAgainstIdentity(password, identity);
  }

  /**
   * The part that knows nothing of the account (length, common passwords). A recovery checks only
   * this before its code is proven, so the answer cannot tell whether the account exists (SPEC §9 rule 8).
   */
  checkStrength(password: unknown): asserts password is string {
    if (typeof password !== 'string' || password.length === 0) {
      throw new DomainError('WeakPassword', 'password is required');
    }
    // Characters, not UTF-16 units, on both ends (an emoji is one character).
    const length = password.length > PASSWORD_MAX_LENGTH * 2 ? password.length : [...password].length;
    if (length > PASSWORD_MAX_LENGTH) {
      throw new DomainError('WeakPassword', `password must be at most ${PASSWORD_MAX_LENGTH} characters long`);
    }
    if (length < this.config.passwordMinLength) {
      throw new DomainError('WeakPassword', `password must be at least ${this.config.passwordMinLength} characters long`);
    }
    PasswordPolicy.common ??= loadCommonPasswords();
    if (PasswordPolicy.common.has(password.toLowerCase())) {
      throw new DomainError('WeakPassword', 'password is too common');
    }
  }

  /** The part that compares with the account's own e-mail, username or phone. */
  checkAgainstIdentity(password: string, identity: PasswordIdentity): void {
    const lowered = password.toLowerCase();
    const identifiers = [identity.email, identity.email?.split('@')[0], identity.username, identity.phone]
      .filter((value): value is string => !!value)
      .map((value) => value.toLowerCase());
    if (identifiers.includes(lowered)) {
      throw new DomainError('WeakPassword', 'password must not be the same as the e-mail, username or phone');
    }
  }
}
