import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { QueryFailedError, Repository } from 'typeorm';
import { DomainError } from '../common/domain-error';
import { LoginIdentifier } from '../common/identifiers';
import { User, UserRole, UserStatus } from './user.entity';

export interface UserSearch {
  search?: string;
  role?: UserRole;
  status?: UserStatus;
  offset: number;
  limit: number;
}

/** Which unique index a PostgreSQL 23505 came from → the domain error a client can act on. */
const UNIQUE_VIOLATIONS: Record<string, DomainError> = {
  UQ_users_email_lower: new DomainError('EmailTaken', 'this e-mail is already registered'),
  UQ_users_username_lower: new DomainError('UsernameTaken', 'this username is already taken'),
  UQ_users_phone: new DomainError('PhoneTaken', 'this phone number is already registered'),
};

function translateUniqueViolation(error: unknown): never {
  if (error instanceof QueryFailedError) {
    const { code, constraint } = error.driverError as { code?: string; constraint?: string };
    const known = code === '23505' && constraint ? UNIQUE_VIOLATIONS[constraint] : undefined;
    if (known) throw new DomainError(known.kind, known.message);
  }
  throw error;
}

@Injectable()
export class UsersRepository {
  constructor(@InjectRepository(User) private readonly users: Repository<User>) {}

  findById(id: string): Promise<User | null> {
    return this.users.findOneBy({ id });
  }

  findByIdentifier({ kind, value }: LoginIdentifier): Promise<User | null> {
    const column = kind === 'phone' ? 'u.phone = :value' : `lower(u.${kind}) = lower(:value)`;
    return this.users.createQueryBuilder('u').where(column, { value }).getOne();
  }

  async create(data: Partial<User>): Promise<User> {
    try {
      return await this.users.save(this.users.create(data));
    } catch (error) {
      translateUniqueViolation(error);
    }
  }

  /** Applies `patch` and returns the stored row. */
  async update(id: string, patch: Partial<User>): Promise<User | null> {
    if (Object.keys(patch).length > 0) {
      try {
        await this.users.update({ id }, patch);
      } catch (error) {
        translateUniqueViolation(error);
      }
    }
    return this.findById(id);
  }

  /** Stamps the e-mail or phone as verified, but only while the account still has that address. */
  async markVerified(id: string, kind: 'email' | 'phone', address: string): Promise<boolean> {
    const column = kind === 'email' ? 'emailVerifiedAt' : 'phoneVerifiedAt';
    const result = await this.users.update({ id, [kind]: address }, { [column]: () => 'now()' });
    return (result.affected ?? 0) > 0;
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.users.delete({ id });
    return (result.affected ?? 0) > 0;
  }

  async search({ search, role, status, offset, limit }: UserSearch): Promise<[User[], number]> {
    const query = this.users.createQueryBuilder('u');
    if (role) query.andWhere('u.role = :role', { role });
    if (status) query.andWhere('u.status = :status', { status });
    if (search) {
      const pattern = `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      query.andWhere(
        `(u.email ILIKE :pattern OR u.username ILIKE :pattern OR u.phone ILIKE :pattern OR u.name ILIKE :pattern
          OR u.surname ILIKE :pattern OR u.full_name ILIKE :pattern)`,
        { pattern },
      );
    }
    return query.orderBy('u.created_at', 'DESC').addOrderBy('u.id', 'ASC').skip(offset).take(limit).getManyAndCount();
  }

  /**
   * Counts one more failed sign-in in a single statement (no lost updates under concurrency) and,
   * from `threshold` failures on, locks the account for `baseSeconds` doubling per failure up to `maxSeconds`.
   */
  async recordFailedSignIn(id: string, threshold: number, baseSeconds: number, maxSeconds: number): Promise<void> {
    await this.users.query(
      `UPDATE users SET failed_login_count = failed_login_count + 1,
         locked_until = CASE WHEN failed_login_count + 1 >= $2
           THEN now() + make_interval(secs => LEAST($4::float8, $3::float8 * power(2, LEAST(failed_login_count + 1 - $2, 30))))
           ELSE locked_until END
       WHERE id = $1`,
      [id, threshold, baseSeconds, maxSeconds],
    );
  }

  /** Raw SQL on purpose: bookkeeping, not a profile change, so `updated_at` stays. */
  async resetFailedSignIns(id: string): Promise<void> {
    await this.users.query('UPDATE users SET failed_login_count = 0, locked_until = NULL WHERE id = $1', [id]);
  }
}
