import { join } from 'node:path';
import { DataSourceOptions } from 'typeorm';
import { RefreshToken } from '../auth/refresh-token.entity';
import { Session } from '../auth/session.entity';
import { SigningKey } from '../auth/signing-key.entity';
import { OutboxMessage } from '../notifications/outbox-message.entity';
import { User } from '../users/user.entity';
import { SendCooldown } from '../verification/send-cooldown.entity';
import { VerificationSecret } from '../verification/verification-secret.entity';

export const ENTITIES = [User, Session, RefreshToken, SigningKey, VerificationSecret, SendCooldown, OutboxMessage];

/** One definition of the connection, used by the app, the tests and the TypeORM CLI (ormconfig.ts). */
export function dataSourceOptions(databaseUrl: string): DataSourceOptions {
  return {
    type: 'postgres',
    url: databaseUrl,
    entities: ENTITIES,
    // Globbed so `migration:generate` output is picked up without a registry to edit.
    migrations: [join(__dirname, 'migrations', '*.{ts,js}')],
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    extra: { max: 20, application_name: 'identity-service' },
  };
}
