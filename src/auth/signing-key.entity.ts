import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** The JWT signing key generated on first start when JWT_PRIVATE_KEY is unset; shared by all instances. */
@Entity({ name: 'signing_keys' })
export class SigningKey {
  @PrimaryColumn({ type: 'varchar', length: 64, primaryKeyConstraintName: 'PK_signing_keys' })
  kid: string;

  @Column({ type: 'varchar', length: 8 })
  algorithm: string;

  @Column({ name: 'private_key_pem', type: 'text' })
  privateKeyPem: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
