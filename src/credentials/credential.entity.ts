import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { User } from '../users/user.entity';

/**
 * How a user proves who they are. `password` today; the same table holds the next kinds
 * (`totp`, `webauthn`, `app-password`, `oidc:<provider>`), each with its own secret or subject.
 */
export type CredentialType = 'password' | 'totp' | 'webauthn' | 'app-password' | `oidc:${string}`;

/**
 * One credential of a user. The account lockout of SPEC §6 is kept on the password credential:
 * it counts every wrong password (sign-in or a change that needed the current one).
 */
@Entity({ name: 'credentials' })
// Partial unique indexes are written by hand in the migration.
@Index('UQ_credentials_password', { synchronize: false })
@Index('UQ_credentials_subject', { synchronize: false })
@Index('IDX_credentials_user', ['userId'])
export class Credential {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_credentials' })
  id: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'FK_credentials_user' })
  user?: User;

  @Column({ type: 'varchar', length: 64 })
  type: CredentialType;

  /** The argon2id hash of a password; an encrypted or hashed secret for other kinds. Never returned. */
  @Column({ type: 'text', nullable: true })
  secret: string | null;

  /** What identifies the credential outside (a WebAuthn credential id, an OIDC subject). */
  @Column({ type: 'varchar', length: 512, nullable: true })
  subject: string | null;

  /** A name the user gave it ("work laptop"). */
  @Column({ type: 'varchar', length: 100, nullable: true })
  name: string | null;

  /** Consecutive failures; reset by a success. */
  @Column({ name: 'failed_count', type: 'integer', default: 0 })
  failedCount: number;

  @Column({ name: 'locked_until', type: 'timestamptz', nullable: true })
  lockedUntil: Date | null;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
