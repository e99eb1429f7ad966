import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { User } from '../users/user.entity';

/**
 * `email-change`: proves the new address of a two-step e-mail change (/v1); `email-change-revert`:
 * the "this wasn't me" link sent to the previous address, which survives later changes.
 */
export const VERIFICATION_PURPOSES = ['email-verify', 'phone-verify', 'password-reset', 'password-change', 'email-change', 'email-change-revert'] as const;
export type VerificationPurpose = (typeof VERIFICATION_PURPOSES)[number];
export type SecretKind = 'code' | 'link';

/** A one-time code or link token. Only its SHA-256 is stored; it is single use and dies after `maxAttempts` wrong tries. */
@Entity({ name: 'verification_secrets' })
// Partial indexes are written by hand in the migration.
@Index('IDX_verification_secrets_live', { synchronize: false })
@Index('UQ_verification_secrets_link', { synchronize: false })
@Check(
  'CHK_verification_secrets_purpose',
  `"purpose" IN ('email-verify', 'phone-verify', 'password-reset', 'password-change', 'email-change', 'email-change-revert')`,
)
@Check('CHK_verification_secrets_kind', `"kind" IN ('code', 'link')`)
export class VerificationSecret {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_verification_secrets' })
  id: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'FK_verification_secrets_user' })
  user?: User;

  @Column({ type: 'varchar', length: 32 })
  purpose: VerificationPurpose;

  @Column({ type: 'varchar', length: 8 })
  kind: SecretKind;

  /** The e-mail or E.164 phone the secret was sent to: it only proves that address. */
  @Column({ type: 'varchar', length: 254 })
  target: string;

  @Column({ name: 'secret_hash', type: 'bytea' })
  secretHash: Buffer;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  /** Set when used, voided by a newer secret, or after too many wrong tries. */
  @Column({ name: 'consumed_at', type: 'timestamptz', nullable: true })
  consumedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
