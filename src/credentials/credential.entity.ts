import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { User } from '../users/user.entity';

/**
 * How a user proves who they are, each kind with its own secret or subject: `password` (argon2id);
 * the second factors `totp` (secret sealed with AES-256-GCM; `totp-pending` until its first code)
 * and `webauthn` (a passkey: subject = credential id, secret = COSE public key); `recovery-code`
 * (SHA-256, single use); `app-password` (SHA-256: legacy sign-in for accounts with a second factor);
 * later `oidc:<provider>`.
 */
export type CredentialType = 'password' | 'totp' | 'totp-pending' | 'webauthn' | 'recovery-code' | 'app-password' | `oidc:${string}`;

/** The kinds that make an account "have a second factor" (SPEC §9 rule 4 then needs aal2). */
export const SECOND_FACTOR_TYPES: CredentialType[] = ['totp', 'webauthn'];

/**
 * One credential of a user. The account lockout of SPEC §6 is kept on the password credential:
 * it counts every wrong password (sign-in or a change that needed the current one).
 */
@Entity({ name: 'credentials' })
// Partial unique indexes are written by hand in the migration.
@Index('UQ_credentials_password', { synchronize: false })
@Index('UQ_credentials_subject', { synchronize: false })
@Index('UQ_credentials_totp', { synchronize: false })
@Index('UQ_credentials_totp_pending', { synchronize: false })
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

  /** A TOTP's last accepted time step (a code is good once); a passkey's signature counter (a clone's goes backwards). */
  @Column({ type: 'bigint', nullable: true })
  counter: string | null;

  /** Facts about a passkey (transports, authenticator model, backup state). Never a secret. */
  @Column({ type: 'jsonb', nullable: true })
  details: Record<string, unknown> | null;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
