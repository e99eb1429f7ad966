import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { User } from '../users/user.entity';

/** One sign-in. Its id is the access token's `sid`; revoking it rejects those tokens at once. */
@Entity({ name: 'sessions' })
@Index('IDX_sessions_user', ['userId'])
@Index('IDX_sessions_credential', { synchronize: false })
export class Session {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_sessions' })
  id: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'FK_sessions_user' })
  user?: User;

  /** Generation of the refresh token that is current; older generations are reuse. */
  @Column({ name: 'refresh_generation', type: 'integer', default: 0 })
  refreshGeneration: number;

  @Column({ name: 'rotated_at', type: 'timestamptz', nullable: true })
  rotatedAt: Date | null;

  @Column({ type: 'boolean', default: false })
  remember: boolean;

  @Column({ name: 'user_agent', type: 'varchar', length: 512, nullable: true })
  userAgent: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'last_used_at', type: 'timestamptz' })
  lastUsedAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  @Column({ name: 'revoked_reason', type: 'varchar', length: 64, nullable: true })
  revokedReason: string | null;

  /** How the user proved who they are (RFC 8176 style): `pwd`, `otp`, `webauthn`, `recovery`, `app-password`. */
  @Column({ type: 'varchar', length: 16, array: true, default: () => "'{pwd}'" })
  amr: AuthMethod[];

  /** Authenticator assurance level: 2 once a second factor (or a passkey alone) proved it. */
  @Column({ type: 'smallint', default: 1 })
  aal: AssuranceLevel;

  /** When a second factor last stepped this session up; null: its proof is the sign-in (`createdAt`). */
  @Column({ name: 'stepped_up_at', type: 'timestamptz', nullable: true })
  steppedUpAt: Date | null;

  /** The app password that opened this session: revoking it ends the session. */
  @Column({ name: 'credential_id', type: 'uuid', nullable: true })
  credentialId: string | null;
}

export type AuthMethod = 'pwd' | 'otp' | 'webauthn' | 'recovery' | 'app-password';
export type AssuranceLevel = 1 | 2;

/** When this session last proved who its user is: a step-up, else the sign-in (SPEC §9 rule 4). */
export function authTimeOf(session: Pick<Session, 'createdAt' | 'steppedUpAt'>): Date {
  return session.steppedUpAt ?? session.createdAt;
}
