import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { DomainError } from '../common/domain-error';
import { normalizeEmail, toE164, usernameProblem } from '../common/identifiers';
import { PasswordHasher } from './password-hasher.service';
import { PasswordPolicy } from './password-policy.service';
import { User, UserRole, UserStatus } from './user.entity';
import { UserSearch, UsersRepository } from './users.repository';

/** Profile fields any surface may change; identifiers are normalised and re-checked here. */
export interface ProfileChanges {
  username?: string | null;
  email?: string | null;
  phone?: string | number | null;
  name?: string | null;
  surname?: string | null;
  patronymic?: string | null;
  fullName?: string | null;
  address?: string | null;
  contacts?: string | null;
  cityId?: string | null;
  userType?: string;
  autoUpdating?: boolean;
  autoPaying?: boolean;
  pushToken?: string | null;
  locale?: string | null;
}

export interface Registration extends ProfileChanges {
  password: string;
  role?: UserRole;
}

@Injectable()
export class UsersService {
  constructor(
    private readonly users: UsersRepository,
    private readonly hasher: PasswordHasher,
    private readonly passwordPolicy: PasswordPolicy,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async register({ password, role, ...profile }: Registration): Promise<User> {
    const fields = this.normalize(profile);
    if (!fields.email && !fields.username && !fields.phone) {
      throw new DomainError('IdentifierRequired', 'an e-mail, a username or a phone number is required');
    }
    this.passwordPolicy.check(password, fields);
    return this.users.create({ ...fields, role: role ?? 'user', passwordHash: await this.hasher.hash(password) });
  }

  /**
   * Bootstrap for the first administrator (`npm run cli -- create-admin`): promotes the account with
   * this e-mail when there is one, else creates it with the password.
   */
  async ensureAdministrator(input: { email: string; username?: string; password?: string }): Promise<{ user: User; created: boolean }> {
    const existing = await this.users.findByIdentifier({ kind: 'email', value: normalizeEmail(input.email) });
    if (existing) {
      return { user: await this.setRoleAndStatus(existing.id, { role: 'administrator', status: 'active' }), created: false };
    }
    if (!input.password) throw new DomainError('WeakPassword', 'a password is required to create a new account');
    const user = await this.register({ email: input.email, username: input.username, password: input.password, role: 'administrator' });
    return { user, created: true };
  }

  async get(id: string): Promise<User> {
    const user = await this.users.findById(id);
    if (!user) throw new DomainError('UserNotFound', 'no such user');
    return user;
  }

  /**
   * An account `actor` may read and change: their own, or any for an administrator. Others get
   * Forbidden whether or not the account exists, so ids cannot be probed.
   */
  async getManaged(actor: User, id: string): Promise<User> {
    if (actor.id === id) return actor;
    if (actor.role !== 'administrator') throw new DomainError('Forbidden', 'only the user themself or an administrator may do this');
    return this.get(id);
  }

  /** Changing the e-mail or phone clears its verification; removing every identifier is refused. */
  async updateProfile(user: User, changes: ProfileChanges): Promise<User> {
    const fields = this.normalize(changes);
    if (fields.email !== undefined && fields.email !== user.email) fields.emailVerifiedAt = null;
    if (fields.phone !== undefined && fields.phone !== user.phone) fields.phoneVerifiedAt = null;
    const next = { ...user, ...fields };
    if (!next.email && !next.username && !next.phone) {
      throw new DomainError('IdentifierRequired', 'an e-mail, a username or a phone number must remain');
    }
    return this.saved(await this.users.update(user.id, fields));
  }

  async setPassword(user: User, password: string): Promise<void> {
    this.passwordPolicy.check(password, user);
    await this.users.update(user.id, { passwordHash: await this.hasher.hash(password) });
  }

  /** Records that the user proved `address` (a code or link reached it); refused when the address changed since. */
  async markVerified(userId: string, kind: 'email' | 'phone', address: string): Promise<User> {
    if (!(await this.users.markVerified(userId, kind, address))) {
      throw new DomainError('InvalidCode', 'the code or link was sent to an address this account no longer has');
    }
    return this.get(userId);
  }

  async setRoleAndStatus(id: string, changes: { role?: UserRole; status?: UserStatus }): Promise<User> {
    await this.get(id);
    return this.saved(await this.users.update(id, changes));
  }

  async delete(id: string): Promise<void> {
    if (!(await this.users.delete(id))) throw new DomainError('UserNotFound', 'no such user');
  }

  list(query: UserSearch): Promise<[User[], number]> {
    return this.users.search(query);
  }

  private saved(user: User | null): User {
    if (!user) throw new DomainError('UserNotFound', 'no such user');
    return user;
  }

  /** Normalises identifiers (lower-cased e-mail, E.164 phone) and checks the username rules. */
  private normalize(changes: ProfileChanges): Partial<User> {
    const { phone, email, username, ...rest } = changes;
    // undefined means "not sent": drop it so it never overwrites a stored value.
    const fields = Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined)) as Partial<User>;
    if (email !== undefined) fields.email = email ? normalizeEmail(email) : null;
    if (username !== undefined) {
      const trimmed = username?.trim() || null;
      const problem = trimmed ? usernameProblem(trimmed) : null;
      if (problem) throw new DomainError('InvalidUsername', problem);
      fields.username = trimmed;
    }
    if (phone !== undefined) {
      if (phone === null || phone === '') {
        fields.phone = null;
      } else {
        const e164 = toE164(phone, this.config.defaultPhoneRegion);
        if (!e164) throw new DomainError('InvalidPhone', 'phone must be a valid phone number');
        fields.phone = e164;
      }
    }
    return fields;
  }
}
