import { randomBytes } from 'node:crypto';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ServerSecret } from './server-secret.entity';

const REFRESH_TOKEN_SECRET = 'refresh-token';

/**
 * The key refresh tokens are derived under (SPEC §5): 256 random bits generated on first start and
 * stored in the database, so every instance derives the same tokens and they survive restarts.
 * Independent of the signing key, so rotating that key does not change any refresh token.
 */
@Injectable()
export class ServerSecretsService implements OnModuleInit {
  private refreshSecret: Buffer;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async onModuleInit(): Promise<void> {
    this.refreshSecret = await this.ensure(REFRESH_TOKEN_SECRET);
  }

  /** The secret called `name`: 256 random bits generated and stored on first use, the same for every instance. */
  async ensure(name: string): Promise<Buffer> {
    // Concurrent first starts: the primary key lets exactly one insert win; everyone reads the winner.
    await this.dataSource
      .createQueryBuilder()
      .insert()
      .into(ServerSecret)
      .values({ name, secret: randomBytes(32) })
      .orIgnore()
      .execute();
    return (await this.dataSource.getRepository(ServerSecret).findOneByOrFail({ name })).secret;
  }

  /** The secret called `name` if one was ever generated, without generating it. */
  async find(name: string): Promise<Buffer | null> {
    return (await this.dataSource.getRepository(ServerSecret).findOneBy({ name }))?.secret ?? null;
  }

  refreshTokenSecret(): Buffer {
    return this.refreshSecret;
  }
}
