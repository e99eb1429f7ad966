import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { User } from '../users/user.entity';

export type MessageChannel = 'email' | 'sms';
export type OutboxStatus = 'pending' | 'sent' | 'failed';

/**
 * A message waiting for (or done with) delivery. Written in the same transaction as the code it
 * carries; the bodies are erased once the message is sent or has failed for good.
 */
@Entity({ name: 'outbox_messages' })
@Index('IDX_outbox_messages_due', { synchronize: false })
@Index('IDX_outbox_messages_user', ['userId'])
@Check('CHK_outbox_messages_channel', `"channel" IN ('email', 'sms')`)
@Check('CHK_outbox_messages_status', `"status" IN ('pending', 'sent', 'failed')`)
export class OutboxMessage {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_outbox_messages' })
  id: string;

  @Column({ name: 'user_id', type: 'uuid', nullable: true })
  userId: string | null;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'FK_outbox_messages_user' })
  user?: User;

  @Column({ type: 'varchar', length: 8 })
  channel: MessageChannel;

  @Column({ type: 'varchar', length: 254 })
  recipient: string;

  @Column({ type: 'varchar', length: 64 })
  template: string;

  @Column({ type: 'varchar', length: 255, nullable: true })
  subject: string | null;

  @Column({ name: 'text_body', type: 'text' })
  textBody: string;

  @Column({ name: 'html_body', type: 'text', nullable: true })
  htmlBody: string | null;

  @Column({ type: 'varchar', length: 8, default: 'pending' })
  status: OutboxStatus;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt: Date;

  @Column({ name: 'last_error', type: 'varchar', length: 1000, nullable: true })
  lastError: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'sent_at', type: 'timestamptz', nullable: true })
  sentAt: Date | null;
}
