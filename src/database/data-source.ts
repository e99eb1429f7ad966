import { join } from 'node:path';
import { DataSourceOptions } from 'typeorm';
import { DatabasePoolConfig, DEFAULT_POOL } from '../config/app-config';
import { RefreshToken } from '../auth/refresh-token.entity';
import { ServerSecret } from '../auth/server-secret.entity';
import { Session } from '../auth/session.entity';
import { SigningKey } from '../auth/signing-key.entity';
import { Credential } from '../credentials/credential.entity';
import { RateLimitCounter } from '../limits/rate-limit.entity';
import { MfaChallenge } from '../mfa/mfa-challenge.entity';
import { OutboxMessage } from '../notifications/outbox-message.entity';
import { User } from '../users/user.entity';
import { SendCooldown } from '../verification/send-cooldown.entity';
import { VerificationSecret } from '../verification/verification-secret.entity';

export const ENTITIES = [
  User,
  Credential,
  Session,
  RefreshToken,
  SigningKey,
  ServerSecret,
  VerificationSecret,
  SendCooldown,
  OutboxMessage,
  RateLimitCounter,
  MfaChallenge,
];

/** One definition of the connection, used by the app, the tests and the TypeORM CLI (ormconfig.ts). */
export function dataSourceOptions(databaseUrl: string, pool: DatabasePoolConfig = DEFAULT_POOL): DataSourceOptions {
  return {
    type: 'postgres',
    url: databaseUrl,
    entities: ENTITIES,
    // Globbed so `migration:generate` output is picked up without a registry to edit.
    migrations: [join(__dirname, 'migrations', '*.{ts,js}')],
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    // connectionTimeoutMillis bounds both opening a connection and waiting for a free one in the
    // pool: without it, a saturated pool makes requests wait forever instead of answering 503.
    extra: { max: pool.poolSize, connectionTimeoutMillis: pool.poolTimeoutMs, application_name: 'identity-service' },
  };
}
