import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export const USER_ROLES = ['user', 'executor', 'administrator'] as const;
export type UserRole = (typeof USER_ROLES)[number];
export const USER_STATUSES = ['active', 'blocked'] as const;
export type UserStatus = (typeof USER_STATUSES)[number];

/**
 * The one user store every surface reads and writes (SPEC §4). Never returned as is: see the
 * presenters. How a user proves who they are lives in `credentials` (src/credentials/).
 */
@Entity({ name: 'users' })
// Expression and composite indexes are written by hand in the migration; TypeORM must not touch them.
@Index('UQ_users_username_lower', { synchronize: false })
@Index('UQ_users_email_lower', { synchronize: false })
@Index('UQ_users_phone', { synchronize: false })
@Index('IDX_users_role_created', { synchronize: false })
@Check('CHK_users_identifier', `"username" IS NOT NULL OR "email" IS NOT NULL OR "phone" IS NOT NULL`)
@Check('CHK_users_role', `"role" IN ('user', 'executor', 'administrator')`)
@Check('CHK_users_status', `"status" IN ('active', 'blocked')`)
export class User {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_users' })
  id: string;

  /** Stored as typed; unique case-insensitively (index on lower(username)). */
  @Column({ type: 'varchar', length: 64, nullable: true })
  username: string | null;

  /** Stored lower-cased; unique. */
  @Column({ type: 'varchar', length: 254, nullable: true })
  email: string | null;

  /** Stored in E.164; unique. */
  @Column({ type: 'varchar', length: 20, nullable: true })
  phone: string | null;

  @Column({ type: 'varchar', length: 100, nullable: true })
  name: string | null;

  @Column({ type: 'varchar', length: 100, nullable: true })
  surname: string | null;

  @Column({ type: 'varchar', length: 100, nullable: true })
  patronymic: string | null;

  /** Only what the user set; see `displayFullName()` for the derived value. */
  @Column({ name: 'full_name', type: 'varchar', length: 300, nullable: true })
  fullName: string | null;

  @Column({ type: 'varchar', length: 500, nullable: true })
  address: string | null;

  @Column({ type: 'varchar', length: 500, nullable: true })
  contacts: string | null;

  @Column({ name: 'city_id', type: 'uuid', nullable: true })
  cityId: string | null;

  @Column({ name: 'user_type', type: 'varchar', length: 32, default: 'ind' })
  userType: string;

  @Column({ type: 'varchar', length: 32, default: 'user' })
  role: UserRole;

  @Column({ type: 'varchar', length: 16, default: 'active' })
  status: UserStatus;

  @Column({ name: 'auth_client', type: 'varchar', length: 32, default: 'local' })
  authClient: string;

  @Column({ name: 'auto_updating', type: 'boolean', default: false })
  autoUpdating: boolean;

  @Column({ name: 'auto_paying', type: 'boolean', default: false })
  autoPaying: boolean;

  @Column({ name: 'push_token', type: 'varchar', length: 512, nullable: true })
  pushToken: string | null;

  /** Preferred language for messages (`en`, `ru`); null means "from the request". */
  @Column({ type: 'varchar', length: 8, nullable: true })
  locale: string | null;

  @Column({ name: 'email_verified_at', type: 'timestamptz', nullable: true })
  emailVerifiedAt: Date | null;

  @Column({ name: 'phone_verified_at', type: 'timestamptz', nullable: true })
  phoneVerifiedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

/** `fullName` when set, else "Surname Name Patronymic" from the parts that exist (SPEC §4). */
export function displayFullName(user: Pick<User, 'fullName' | 'surname' | 'name' | 'patronymic'>): string | null {
  if (user.fullName) return user.fullName;
  const parts = [user.surname, user.name, user.patronymic].filter((part): part is string => !!part);
  return parts.length ? parts.join(' ') : null;
}
