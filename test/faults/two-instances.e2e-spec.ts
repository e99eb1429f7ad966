import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { createEmptyDatabase, EmptyDatabase, GOOD_PASSWORD, unique, uniquePhone } from '../support/app';
import { HttpClient, HttpResponse } from '../support/http';
import { MailServer, startMailServer } from '../support/mail';
import { MIGRATION_LOCK_KEY } from '../../src/database/migrate';
import { AppProcess, spawnApp, waitUntilAnswers } from '../support/process';
import { SmsReceiver, startSmsReceiver } from '../support/sms';

const PER_CLIENT_BUDGET = 5;
const EMAILS_PER_DAY = 3;
const SMS_PER_DAY = 2;

/**
 * Two instances on one (new, empty) database, started at the same moment: the schema is migrated
 * once; a logout on one rejects the token on the other at once; the account lockout, the per-client
 * budget and the daily message caps count across both; the outbox sends each message once.
 */
describe('fault: two instances on one database', () => {
  let database: EmptyDatabase;
  let url: string;
  let mail: MailServer;
  let sms: SmsReceiver;
  let a: AppProcess;
  let b: AppProcess;
  let nextIp = 1;
  /** A client address of its own for each caller (TRUST_PROXY: the per-IP budgets key on it). */
  const from = (ip = `203.0.113.${nextIp++}`) => ({ headers: { 'x-forwarded-for': ip } });

  beforeAll(async () => {
    database = await createEmptyDatabase('fault_two');
    url = database.url;
    mail = await startMailServer();
    sms = await startSmsReceiver();
    const env = {
      DATABASE_URL: url,
      SMTP_URL: mail.url,
      SMS_WEBHOOK_URL: sms.url,
      TRUST_PROXY: '127.0.0.1',
      RATE_LIMIT_ALLOWLIST: '',
      AUTH_RATE_LIMIT_PER_MINUTE: String(PER_CLIENT_BUDGET),
      MAX_EMAILS_PER_DAY: String(EMAILS_PER_DAY),
      MAX_SMS_PER_DAY: String(SMS_PER_DAY),
      EMAIL_RESEND_COOLDOWN: '0',
      SMS_RESEND_COOLDOWN: '0',
      OUTBOX_POLL_INTERVAL_MS: '50',
    };
    // Both at once, on a database without a schema. While the test holds the migration lock, both
    // must wait for it (not migrate, not listen); released, one migrates and the other finds it done.
    const holder = new Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
      [a, b] = await Promise.all([spawnApp(env, { waitFor: 'nothing' }), spawnApp(env, { waitFor: 'nothing' })]);
      for (let waiting = 0; waiting < 2;) {
        if (a.hasExited || b.hasExited) throw new Error(`an instance exited:\n${a.output()}\n${b.output()}`);
        const { rows } = await holder.query(
          `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = $1)`,
          [database.name],
        );
        waiting = rows[0].n;
        if (waiting < 2) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const { rows } = await holder.query(`SELECT to_regclass('migrations') AS table`);
      expect(rows[0].table).toBeNull();
      expect(
        await a.http.get('/health/live').then(
          () => 'answered',
          () => 'not listening',
        ),
      ).toBe('not listening');
      await holder.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    } finally {
      await holder.end();
    }
    await Promise.all([waitUntilAnswers(a, '/health/ready'), waitUntilAnswers(b, '/health/ready')]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await mail?.close();
    await sms?.close();
    await database?.drop();
  });

  async function register(on: HttpClient, fields: Record<string, unknown> = {}): Promise<{ id: string; email: string; phone: string }> {
    const email = `${unique('two')}@example.com`;
    const phone = uniquePhone();
    const res = await on.post('/v1/auth/register', { email, phone, password: GOOD_PASSWORD, ...fields }, from());
    expect(res.status).toBe(201);
    return { id: res.body.id, email, phone };
  }
  const login = (on: HttpClient, email: string, password = GOOD_PASSWORD, ip?: string) => on.post('/v1/auth/login', { login: email, password }, from(ip));
  const statuses = (answers: HttpResponse[]) => answers.map((answer) => answer.status);

  it('both started together (waiting for each other) and the schema was migrated once; they share the signing key', async () => {
    const db = new Client({ connectionString: url });
    await db.connect();
    try {
      const { rows: applied } = await db.query(`SELECT name, count(*)::int AS n FROM migrations GROUP BY name`);
      const files = readdirSync(join(__dirname, '..', '..', 'src', 'database', 'migrations')).filter((file) => file.endsWith('.ts'));
      expect(applied).toHaveLength(files.length);
      expect(applied.filter((row) => row.n !== 1)).toEqual([]);
      const { rows: keys } = await db.query(`SELECT count(*)::int AS n FROM signing_keys`);
      expect(keys[0].n).toBe(1);
    } finally {
      await db.end();
    }
    expect((await a.http.get('/.well-known/jwks.json')).body).toEqual((await b.http.get('/.well-known/jwks.json')).body);
  });

  it('a logout on one instance rejects the token on the other at once', async () => {
    const user = await register(a.http);
    const signedIn = await login(a.http, user.email);
    const token = signedIn.body.accessToken;
    expect((await b.http.get('/v1/me', { token })).status).toBe(200);
    expect((await a.http.post('/v1/auth/logout', undefined, { token })).status).toBe(204);
    expect((await b.http.get('/v1/me', { token })).status).toBe(401);
    // And a refresh token of the ended session is refused there too.
    expect((await b.http.post('/v1/auth/refresh', { refreshToken: signedIn.body.refreshToken }, from())).status).toBe(401);
  });

  it('the account lockout counts failures on both: ten in a row, alternating, lock it on both', async () => {
    const user = await register(b.http);
    const answers: HttpResponse[] = [];
    // Each try from another address: the per-client budget stays out of the way.
    for (let i = 0; i < 10; i++) answers.push(await login(i % 2 ? a.http : b.http, user.email, `wrong password ${i}`));
    expect(statuses(answers)).toEqual(Array(10).fill(401));
    const [onA, onB] = [await login(a.http, user.email), await login(b.http, user.email)];
    expect([onA.status, onB.status]).toEqual([429, 429]);
    expect(Number(onA.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('the per-client sign-in budget counts requests to both', async () => {
    const ip = '198.51.100.77';
    const answers: HttpResponse[] = [];
    for (let i = 0; i < PER_CLIENT_BUDGET + 2; i++) answers.push(await login(i % 2 ? a.http : b.http, `${unique('nobody')}@example.com`, GOOD_PASSWORD, ip));
    expect(statuses(answers)).toEqual([...Array(PER_CLIENT_BUDGET).fill(401), 429, 429]);
  });

  it('the daily e-mail and SMS caps of an account count messages caused on both', async () => {
    const user = await register(a.http); // the welcome e-mail is the first of the day
    const token = (await login(b.http, user.email)).body.accessToken;
    const ip = '198.51.100.78';
    const emails: HttpResponse[] = [];
    for (let i = 0; i < EMAILS_PER_DAY; i++) emails.push(await (i % 2 ? a : b).http.post('/v1/me/email/verification', undefined, { token, ...from(ip) }));
    expect(statuses(emails)).toEqual([...Array(EMAILS_PER_DAY - 1).fill(202), 429]);

    const texts: HttpResponse[] = [];
    for (let i = 0; i < SMS_PER_DAY + 1; i++) texts.push(await (i % 2 ? b : a).http.post('/v1/me/phone/verification', undefined, { token, ...from(ip) }));
    expect(statuses(texts)).toEqual([...Array(SMS_PER_DAY).fill(202), 429]);
  });

  it('the outbox sends each message once with both dispatchers running', async () => {
    const count = 60;
    const recipients = Array.from({ length: count }, (_, i) => `once${i}-${unique('o')}@example.com`);
    const db = new Client({ connectionString: url });
    await db.connect();
    try {
      await db.query(
        `INSERT INTO outbox_messages (channel, recipient, template, subject, text_body)
         SELECT 'email', r, 'password-changed', 'Outbox test', 'Sent once by one of two dispatchers.' FROM unnest($1::text[]) AS r`,
        [recipients],
      );
      await Promise.all(recipients.map((to) => mail.waitFor((m) => m.to === to, 30_000)));
      // Both dispatchers have had many more passes since: no copy may still arrive.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(recipients.filter((to) => mail.mailsTo(to).length !== 1)).toEqual([]);
      const { rows } = await db.query(`SELECT status, count(*)::int AS n FROM outbox_messages WHERE recipient = ANY($1) GROUP BY status`, [recipients]);
      expect(rows).toEqual([{ status: 'sent', n: count }]);
    } finally {
      await db.end();
    }
  });

  it('rows another claim holds are skipped, not waited for and then claimed twice', async () => {
    // Both dispatchers poll while a transaction (as a third dispatcher would, mid-claim) holds the
    // rows: they must skip them. A claim that waited for the lock instead would, once it is released,
    // claim them on both instances: each message sent twice.
    const recipients = Array.from({ length: 10 }, (_, i) => `held${i}-${unique('h')}@example.com`);
    const db = new Client({ connectionString: url });
    const holder = new Client({ connectionString: url });
    await db.connect();
    await holder.connect();
    try {
      await db.query(
        `INSERT INTO outbox_messages (channel, recipient, template, subject, text_body, next_attempt_at)
         SELECT 'email', r, 'password-changed', 'Outbox test', 'Held, then sent once.', now() + interval '1 second' FROM unnest($1::text[]) AS r`,
        [recipients],
      );
      await holder.query('BEGIN');
      const { rows: held } = await holder.query(`SELECT id FROM outbox_messages WHERE recipient = ANY($1) FOR UPDATE`, [recipients]);
      expect(held).toHaveLength(recipients.length);
      // Due now, and polled many times by both while held.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      expect(recipients.flatMap((to) => mail.mailsTo(to))).toEqual([]);
      await holder.query('COMMIT');

      await Promise.all(recipients.map((to) => mail.waitFor((m) => m.to === to, 30_000)));
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(recipients.filter((to) => mail.mailsTo(to).length !== 1)).toEqual([]);
      // Both instances stayed responsive meanwhile (no claim was stuck waiting).
      expect((await a.http.get('/health/ready')).status).toBe(200);
      expect((await b.http.get('/health/ready')).status).toBe(200);
    } finally {
      await holder.end();
      await db.end();
    }
  });
});
