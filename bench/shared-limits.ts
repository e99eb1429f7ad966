// `npm run bench:limits`: what the limits shared through PostgreSQL cost a sign-in (README, Scaling out).
// Two apps in this process on one database: one where loopback is exempt from the per-client
// budget (RATE_LIMIT_ALLOWLIST), so a sign-in runs no limit statement, and one where it is not.
// Sign-ins alternate between them (same user, same password, one at a time) and the medians are
// compared; the statement itself (one upsert of `rate_limits`) and the sign-in's audit event are
// also timed alone, from the app's own pool.
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { createApp } from '../src/app.setup';
import { AuditLog } from '../src/audit/audit-log.service';
import { loadConfig } from '../src/config/app-config';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres';
import { Transactions } from '../src/database/transactions';
import { Credential } from '../src/credentials/credential.entity';
import { CredentialsRepository } from '../src/credentials/credentials.repository';
import { LimitsService } from '../src/limits/limits.service';

const PAIRS = Number(process.env.BENCH_PAIRS ?? 300);
const STATEMENTS = Number(process.env.BENCH_STATEMENTS ?? 2000);
const PASSWORD = 'Bench passphrase 2026!';

const median = (values: number[]) => {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const ms = (value: number) => `${value.toFixed(3)} ms`;

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function main(): Promise<void> {
  let databaseUrl = process.env.DATABASE_URL;
  let stopDatabase = async () => undefined as void;
  if (!databaseUrl) {
    const folder = mkdtempSync(join(tmpdir(), 'identity-bench-'));
    chmodSync(folder, 0o755);
    const database = await startEmbeddedPostgres({ dir: join(folder, 'pg'), throwaway: true });
    databaseUrl = database.url;
    stopDatabase = database.stop;
  }
  const env = { DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn', AUTH_RATE_LIMIT_PER_MINUTE: '100000000' };
  const exempt = await createApp(loadConfig({ ...env, RATE_LIMIT_ALLOWLIST: '127.0.0.1,::1' }));
  const limited = await createApp(loadConfig({ ...env, RATE_LIMIT_ALLOWLIST: '' }));
  try {
    await exempt.listen(0, '127.0.0.1');
    await limited.listen(0, '127.0.0.1');
    const base = (app: typeof exempt) => `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    const login = `bench-${Date.now()}@example.com`;
    const post = (url: string, body: unknown) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(async (res) => {
        if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
        return res.json();
      });
    await post(`${base(exempt)}/v1/auth/register`, { email: login, password: PASSWORD });

    const signIn = { exempt: [] as number[], limited: [] as number[] };
    for (let i = 0; i < 20; i++) await post(`${base(i % 2 ? exempt : limited)}/v1/auth/login`, { login, password: PASSWORD }); // warm-up
    for (let i = 0; i < PAIRS; i++) {
      // Alternate which goes first, so neither always runs on a warmer cache.
      const order = i % 2 ? (['exempt', 'limited'] as const) : (['limited', 'exempt'] as const);
      for (const which of order)
        signIn[which].push(await timed(() => post(`${base(which === 'exempt' ? exempt : limited)}/v1/auth/login`, { login, password: PASSWORD })));
    }

    const limits = limited.get(LimitsService);
    const statement: number[] = [];
    for (let i = 0; i < STATEMENTS; i++) statement.push(await timed(() => limits.consume('sign-in', `192.0.2.${i % 200}`)));
    // The other shared limit a successful sign-in touches: its lockout counter is reset (and last use stamped).
    const credentials = limited.get(CredentialsRepository);
    const credential = (await limited.get(DataSource).getRepository(Credential).findOneByOrFail({ type: 'password' })) as Credential;
    const lockoutReset: number[] = [];
    for (let i = 0; i < STATEMENTS; i++) lockoutReset.push(await timed(() => credentials.recordSuccess(credential)));
    const audit = limited.get(AuditLog);
    const transactions = limited.get(Transactions);
    const event: number[] = [];
    for (let i = 0; i < STATEMENTS; i++) {
      event.push(
        await timed(() => transactions.run((tx) => audit.record(tx, { type: 'sign_in.failed', userId: null, details: { reason: 'unknown_account' } }))),
      );
    }
    const emptyTransaction: number[] = [];
    for (let i = 0; i < STATEMENTS; i++) emptyTransaction.push(await timed(() => transactions.run(async () => undefined)));
    await limited.get(DataSource).query(`DELETE FROM security_events WHERE type = 'sign_in.failed' AND user_id IS NULL`);

    console.log(`\nShared limits: cost per sign-in (${PAIRS} interleaved pairs, one at a time; ${STATEMENTS} statements)`);
    console.table([
      { what: 'POST /v1/auth/login, no limit statement (allowlisted)', median: ms(median(signIn.exempt)) },
      { what: 'POST /v1/auth/login, per-client budget counted', median: ms(median(signIn.limited)) },
      { what: 'difference of the medians', median: ms(median(signIn.limited) - median(signIn.exempt)) },
      { what: 'the limit statement alone (one upsert, autocommit)', median: ms(median(statement)) },
      { what: 'the lockout reset of a successful sign-in alone (autocommit)', median: ms(median(lockoutReset)) },
      { what: 'an audit event in its own transaction', median: ms(median(event)) },
      { what: 'an empty transaction (BEGIN; COMMIT)', median: ms(median(emptyTransaction)) },
    ]);
  } finally {
    await exempt.close();
    await limited.close();
    await stopDatabase();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
