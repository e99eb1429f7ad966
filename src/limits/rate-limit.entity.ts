import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One fixed-window counter: how often `key` (a client address, an account id, `global`) used
 * `budget` in the window that ends at `expiresAt`. The window starts at the first use after the
 * previous one ended. Rows whose window has ended are swept hourly.
 */
@Entity({ name: 'rate_limits' })
@Index('IDX_rate_limits_expires_at', ['expiresAt'])
export class RateLimitCounter {
  @PrimaryColumn({ type: 'varchar', length: 32, primaryKeyConstraintName: 'PK_rate_limits' })
  budget: string;

  @PrimaryColumn({ type: 'varchar', length: 128, primaryKeyConstraintName: 'PK_rate_limits' })
  key: string;

  @Column({ type: 'integer' })
  hits: number;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;
}
