import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { DestinationStream } from 'pino';
import { DataSource } from 'typeorm';
import { LegacyModule } from './api/legacy/legacy.module';
import { V1Module } from './api/v1/v1.module';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { JwtAuthGuard } from './auth/jwt-auth.guard';
import { createRootLogger, ROOT_LOGGER } from './common/logging';
import { RequestInputGuard } from './common/request-input';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { CredentialsModule } from './credentials/credentials.module';
import { dataSourceOptions } from './database/data-source';
import { ChangesModule } from './database/change-listener';
import { TransactionsModule } from './database/transactions';
import { runMigrations } from './database/migrate';
import { HealthModule } from './health/health.module';
import { LifecycleModule } from './lifecycle/shutdown';
import { LimitsModule } from './limits/limits.module';
import { MetricsModule } from './metrics/metrics.module';
import { NotificationsModule } from './notifications/notifications.module';
import { UsersModule } from './users/users.module';
import { VerificationModule } from './verification/verification.module';

export interface AppModuleOptions {
  /** Where JSON log lines go (tests capture them); stdout by default. */
  logStream?: DestinationStream;
}

@Module({})
export class AppModule {
  /** `config.databaseUrl` must be resolved (embedded PostgreSQL already started) before this. */
  static forRoot(config: AppConfig, options: AppModuleOptions = {}): DynamicModule {
    if (!config.databaseUrl) throw new Error('AppModule needs a database URL');
    const rootLogger = createRootLogger(config.logLevel, options.logStream);
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        TypeOrmModule.forRootAsync({
          useFactory: () => dataSourceOptions(config.databaseUrl!, config.database),
          // Migrations run before any module reads a table; the advisory lock makes parallel start-ups safe.
          dataSourceFactory: async (dataSourceOptions) => {
            const dataSource = await new DataSource(dataSourceOptions!).initialize();
            await runMigrations(dataSource);
            return dataSource;
          },
        }),
        TransactionsModule,
        LifecycleModule,
        AuditModule,
        MetricsModule,
        ChangesModule,
        LimitsModule,
        UsersModule,
        CredentialsModule,
        AuthModule,
        NotificationsModule,
        VerificationModule,
        HealthModule,
        V1Module,
        LegacyModule,
      ],
      providers: [
        { provide: ROOT_LOGGER, useValue: rootLogger },
        // Order matters: hostile input (bad JSON, control characters…) is refused before authentication is attempted.
        { provide: APP_GUARD, useClass: RequestInputGuard },
        { provide: APP_GUARD, useExisting: JwtAuthGuard },
      ],
    };
  }
}
