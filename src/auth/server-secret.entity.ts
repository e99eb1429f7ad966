import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A random secret generated once on first start and shared by all instances, by name. */
@Entity({ name: 'server_secrets' })
export class ServerSecret {
  @PrimaryColumn({ type: 'varchar', length: 64, primaryKeyConstraintName: 'PK_server_secrets' })
  name: string;

  @Column({ type: 'bytea' })
  secret: Buffer;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
