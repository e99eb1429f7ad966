import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { DomainError } from './common/domain-error';
import { ConfigError, loadConfig } from './config/app-config';
import { openDatabase } from './database/embedded-postgres';
import { AuthService } from './auth/auth.service';

const USAGE = `Usage:
  npm run cli -- create-admin --email <email> [--username <name>] [--password <password>]
      Creates an administrator, or makes an existing account with that e-mail one.
      The password may come from the ADMIN_PASSWORD environment variable instead (keeps it out of shell history).`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { email: { type: 'string' }, username: { type: 'string' }, password: { type: 'string' } },
  });
  if (positionals[0] !== 'create-admin' || !values.email) {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfig(process.env);
  const database = await openDatabase(config.databaseUrl);
  config.databaseUrl = database.url;
  config.logLevel = 'warn';
  const context = await NestFactory.createApplicationContext(AppModule.forRoot(config), { logger: ['error'] });
  try {
    const { user, created } = await context.get(AuthService).ensureAdministrator({
      email: values.email,
      username: values.username,
      password: values.password ?? process.env.ADMIN_PASSWORD,
    });
    console.log(created ? `Created administrator ${user.email} (${user.id})` : `${user.email} (${user.id}) is now an administrator`);
    return 0;
  } finally {
    await context.close();
    await database.stop();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof ConfigError || error instanceof DomainError ? error.message : error);
      process.exit(1);
    },
  );
}
