import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { SecondFactorMethod } from './challenge-state';

/**
 * What a challenge is for: the second step of a password sign-in, a step-up of a live session, a
 * passkey sign-in without password, or a passkey registration (its WebAuthn challenge).
 */
export type ChallengePurpose = 'sign-in' | 'step-up' | 'passkey-sign-in' | 'passkey-registration';

/** One pending second step, in PostgreSQL so any instance can answer it (5 minutes, 5 tries). */
@Entity({ name: 'mfa_challenges' })
@Index('IDX_mfa_challenges_expires_at', ['expiresAt'])
@Index('IDX_mfa_challenges_user', ['userId'])
export class MfaChallenge {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_mfa_challenges' })
  id: string;

  @Column({ type: 'varchar', length: 32 })
  purpose: ChallengePurpose;

  /** Null for a passkey sign-in: the passkey says whose account it is. */
  @Column({ name: 'user_id', type: 'uuid', nullable: true })
  userId: string | null;

  /** The session a step-up or a passkey registration belongs to. */
  @Column({ name: 'session_id', type: 'uuid', nullable: true })
  sessionId: string | null;

  /** The methods offered when the challenge was made. */
  @Column({ type: 'varchar', length: 16, array: true, default: () => "'{}'" })
  methods: SecondFactorMethod[];

  /** The WebAuthn challenge (base64url) an assertion or attestation must sign. */
  @Column({ name: 'webauthn_challenge', type: 'varchar', length: 128, nullable: true })
  webauthnChallenge: string | null;

  /** "Remember me" of the password step, for the session the challenge opens. */
  @Column({ type: 'boolean', default: false })
  remember: boolean;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'consumed_at', type: 'timestamptz', nullable: true })
  consumedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
