import { Inject, Injectable } from '@nestjs/common';
import { AuditLog } from '../audit/audit-log.service';
import { EventOrigin } from '../audit/security-events';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { DomainError } from '../common/domain-error';
import { LoginIdentifier, normalizeEmail, toE164, usernameProblem } from '../common/identifiers';
import { Transactions, Tx } from '../database/transactions';
import { User, UserRole } from './user.entity';
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

/** Normalised profile fields of a new account, checked but not stored yet. */
export type NewAccount = Partial<User>;

@Injectable()
export class UsersService {
  constructor(
    private readonly users: UsersRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly transactions: Transactions,
    private readonly audit: AuditLog,
  ) {}

  /** Normalises and checks the fields of a new account; `create` stores them (the password is the credentials' part). */
  prepareAccount({ role, ...profile }: Omit<Registration, 'password'>): NewAccount {
    const fields = this.normalize(profile);
    if (!fields.email && !fields.username && !fields.phone) {
      throw new DomainError('IdentifierRequired', 'an e-mail, a username or a phone number is required');
    }
    return { ...fields, role: role ?? 'user' };
  }

  create(account: NewAccount, tx: Tx): Promise<User> {
    return this.users.create(account, tx);
  }

  findByIdentifier(identifier: LoginIdentifier): Promise<User | null> {
    return this.users.findByIdentifier(identifier);
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

  /**
   * Changing the e-mail or phone clears its verification; removing every identifier is refused.
   * Surfaces call `ContactChanges.updateProfile`, which adds SPEC §9 rules 1 and 3 around this.
   */
  async updateProfile(user: User, changes: ProfileChanges, tx?: Tx): Promise<User> {
    const fields = this.normalize(changes);
    if (fields.email !== undefined && fields.email !== user.email) fields.emailVerifiedAt = null;
    if (fields.phone !== undefined && fields.phone !== user.phone) fields.phoneVerifiedAt = null;
    const next = { ...user, ...fields };
    if (!next.email && !next.username && !next.phone) {
      throw new DomainError('IdentifierRequired', 'an e-mail, a username or a phone number must remain');
    }
    return this.saved(await this.users.update(user.id, fields, tx));
  }

  /** Sets fields the domain decided on (no normalisation: they come from stored or verified values). */
  async apply(userId: string, fields: Partial<User>, tx?: Tx): Promise<User> {
    return this.saved(await this.users.update(userId, fields, tx));
  }

  /** Records that the user proved `address` (a code or link reached it); refused when the address changed since. */
  async markVerified(userId: string, kind: 'email' | 'phone', address: string, tx?: Tx): Promise<User> {
    if (!(await this.users.markVerified(userId, kind, address, tx))) {
      throw new DomainError('InvalidCode', 'the code or link was sent to an address this account no longer has');
    }
    return this.saved(await this.users.findById(userId, tx));
  }

  /**
   * Deletes the account (personal data; sessions and credentials go by cascade). Its audit events stay,
   * with the personal data in them removed, and one more records the deletion.
   */
  async delete(id: string, origin: EventOrigin = {}): Promise<void> {
    await this.transactions.run(async (tx) => {
      if (!(await this.users.delete(id, tx))) throw new DomainError('UserNotFound', 'no such user');
      await this.audit.record(tx, { type: 'account.deleted', userId: id, actorId: origin.actorId, context: origin.context });
      await this.audit.forget(tx, id);
    });
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
