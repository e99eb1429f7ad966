import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { QueryFailedError, Repository } from 'typeorm';
import { columnsOf, hydrate, prepared, PreparedStatement, queryPrepared } from '../database/prepared';
import { Tx } from '../database/transactions';
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
  private readonly byIdentifier: Partial<Record<LoginIdentifier['kind'], PreparedStatement>> = {};

  constructor(@InjectRepository(User) private readonly users: Repository<User>) {}

  findById(id: string, tx?: Tx): Promise<User | null> {
    return this.repo(tx).findOneBy({ id });
  }

  /** Sign-in's first read (and recovery's): a prepared statement per kind of identifier (issue 13). */
  async findByIdentifier({ kind, value }: LoginIdentifier): Promise<User | null> {
    const dataSource = this.users.manager.connection;
    const statement = (this.byIdentifier[kind] ??= prepared(
      `users_by_${kind}`,
      `SELECT ${columnsOf(dataSource, User, 'u', '')} FROM "users" u WHERE ${kind === 'phone' ? 'u."phone" = $1' : `lower(u."${kind}") = lower($1)`} LIMIT 1`,
    ));
    const [row] = await queryPrepared(dataSource, statement, [value]);
    return row ? hydrate(dataSource, User, row, '') : null;
  }

  async create(data: Partial<User>, tx?: Tx): Promise<User> {
    const users = this.repo(tx);
    try {
      return await users.save(users.create(data));
    } catch (error) {
      translateUniqueViolation(error);
    }
  }

  /** Applies `patch` and returns the stored row. */
  async update(id: string, patch: Partial<User>, tx?: Tx): Promise<User | null> {
    if (Object.keys(patch).length > 0) {
      try {
        await this.repo(tx).update({ id }, patch);
      } catch (error) {
        translateUniqueViolation(error);
      }
    }
    return this.findById(id, tx);
  }

  /** Stamps the e-mail or phone as verified, but only while the account still has that address. */
  async markVerified(id: string, kind: 'email' | 'phone', address: string, tx?: Tx): Promise<boolean> {
    const column = kind === 'email' ? 'emailVerifiedAt' : 'phoneVerifiedAt';
    const result = await this.repo(tx).update({ id, [kind]: address }, { [column]: () => 'now()' });
    return (result.affected ?? 0) > 0;
  }

  async delete(id: string, tx?: Tx): Promise<boolean> {
    const result = await this.repo(tx).delete({ id });
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

  private repo(tx?: Tx): Repository<User> {
    return tx ? tx.getRepository(User) : this.users;
  }
}
