import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * When a code or link was last sent for (purpose, target). Kept for unknown accounts too, so a
 * "forgot password" answer (including its cooldown) does not tell whether the account exists.
 */
@Entity({ name: 'send_cooldowns' })
export class SendCooldown {
  @PrimaryColumn({ type: 'varchar', length: 32, primaryKeyConstraintName: 'PK_send_cooldowns' })
  purpose: string;

  @PrimaryColumn({ type: 'varchar', length: 254, primaryKeyConstraintName: 'PK_send_cooldowns' })
  target: string;

  @Column({ name: 'last_sent_at', type: 'timestamptz' })
  lastSentAt: Date;
}
