import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { DomainError } from '../common/domain-error';
import { classifyIdentifier, LoginIdentifier } from '../common/identifiers';
import { Locale, resolveLocale } from '../common/locale';
import { NotificationsService } from '../notifications/notifications.service';
import { User, UserRole, UserStatus } from '../users/user.entity';
import { UsersRepository } from '../users/users.repository';
import { UsersService } from '../users/users.service';
import { PasswordHasher } from '../users/password-hasher.service';
import { PasswordPolicy } from '../users/password-policy.service';
import { ProfileChanges } from '../users/users.service';
import { SessionOptions, SessionsService, SessionTokens } from './sessions.service';

/** SPEC §6: 10 consecutive failures lock for 1 minute, doubling per further failure, at most 15 minutes. */
export const LOCKOUT = { threshold: 10, baseSeconds: 60, maxSeconds: 900 } as const;

export interface SignIn extends SessionOptions {
  /** An e-mail, username or phone as typed, or an identifier a surface already classified. */
  identifier: string | LoginIdentifier;
  password: string;
}

export interface SignedIn extends SessionTokens {
  user: User;
}

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersRepository,
    private readonly usersService: UsersService,
    private readonly hasher: PasswordHasher,
    private readonly sessions: SessionsService,
    private readonly notifications: NotificationsService,
    private readonly passwordPolicy: PasswordPolicy,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Password sign-in. Unknown accounts cost the same argon2 work as known ones, and every
   * failure reads the same, so the answer does not tell whether an account exists.
   */
  async signIn({ identifier, password, ...options }: SignIn): Promise<SignedIn> {
    const id = typeof identifier === 'string' ? classifyIdentifier(identifier, this.config.defaultPhoneRegion) : identifier;
    const user = id.value ? await this.users.findByIdentifier(id) : null;
    this.assertNotLocked(user);

    const valid = await this.hasher.verify(user?.passwordHash, password);
    if (!user || !valid) {
      if (user) await this.users.recordFailedSignIn(user.id, LOCKOUT.threshold, LOCKOUT.baseSeconds, LOCKOUT.maxSeconds);
      throw new DomainError('InvalidCredentials', 'wrong login or password');
    }
    if (user.status === 'blocked') throw new DomainError('AccountBlocked', 'this account is blocked');

    if (user.failedLoginCount > 0 || user.lockedUntil) await this.users.resetFailedSignIns(user.id);
    if (this.hasher.needsRehash(user.passwordHash!)) {
      await this.users.update(user.id, { passwordHash: await this.hasher.hash(password) });
    }
    return { user, ...(await this.sessions.start(user, options)) };
  }

  signOut(user: User, sessionId: string): Promise<void> {
    return this.sessions.revoke(user.id, sessionId, 'logout');
  }

  /** Changes the password after proving the current one; every other session of the user ends. */
  async changePassword(user: User, currentSessionId: string | undefined, currentPassword: string, newPassword: string, locale?: Locale): Promise<void> {
    if (!(await this.hasher.verify(user.passwordHash, currentPassword))) {
      throw new DomainError('WrongPassword', 'the current password is wrong');
    }
    await this.replacePassword(user, newPassword, { keepSessionId: currentSessionId, locale });
  }

  /** Recovery (a code or link proved control of the account): every session of the user ends. */
  resetPassword(user: User, newPassword: string, locale?: Locale): Promise<void> {
    return this.replacePassword(user, newPassword, { locale });
  }

  /**
   * Sets a new password once the caller proved control some other way (a code or link): every
   * session of the user ends (except `keepSessionId`), the lockout is lifted, and the user is told by e-mail.
   */
  async replacePassword(user: User, newPassword: string, options: { keepSessionId?: string; locale?: Locale } = {}): Promise<void> {
    await this.usersService.setPassword(user, newPassword);
    const reset = options.keepSessionId === undefined;
    await this.sessions.revokeOthers(user.id, options.keepSessionId, reset ? 'password_reset' : 'password_changed');
    if (user.failedLoginCount > 0 || user.lockedUntil) await this.users.resetFailedSignIns(user.id);
    if (user.email) {
      await this.notifications.send({
        userId: user.id,
        channel: 'email',
        to: user.email,
        template: reset ? 'password-reset-done' : 'password-changed',
        locale: resolveLocale(user.locale, options.locale),
      });
    }
  }

  /**
   * Profile fields and, optionally, a new password in one request (surfaces whose update form
   * carries the password). The password is checked first, so a refused one changes nothing;
   * a new password ends every other session (all of them when `keepSessionId` is not given).
   */
  async updateAccount(user: User, changes: ProfileChanges, options: { password?: string; keepSessionId?: string; locale?: Locale } = {}): Promise<User> {
    const { password, ...passwordOptions } = options;
    if (password !== undefined) {
      this.passwordPolicy.check(password, { email: changes.email ?? user.email, username: changes.username ?? user.username, phone: user.phone });
    }
    const updated = await this.usersService.updateProfile(user, changes);
    if (password !== undefined) await this.replacePassword(updated, password, passwordOptions);
    return updated;
  }

  /** Administration: blocking also ends every session, so refresh tokens die with the access tokens. */
  async setRoleAndStatus(userId: string, changes: { role?: UserRole; status?: UserStatus }): Promise<User> {
    const user = await this.usersService.setRoleAndStatus(userId, changes);
    if (changes.status === 'blocked') await this.sessions.revokeOthers(userId, undefined, 'blocked');
    return user;
  }

  private assertNotLocked(user: User | null): void {
    const lockedFor = user?.lockedUntil ? Math.ceil((user.lockedUntil.getTime() - Date.now()) / 1000) : 0;
    if (lockedFor > 0) {
      throw new DomainError('AccountLocked', 'too many failed sign-ins; try again later', { retryAfterSeconds: lockedFor });
    }
  }
}
