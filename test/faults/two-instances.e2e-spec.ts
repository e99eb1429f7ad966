import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { GOOD_PASSWORD, unique, uniquePhone } from '../support/app';
import { HttpClient, HttpResponse } from '../support/http';
import { MailServer, startMailServer } from '../support/mail';
import { AppProcess, spawnApp } from '../support/process';
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
  const name = `fault_two_${process.pid}_${Date.now()}`;
  let maintenance: Client;
  let url: string;
  let mail: MailServer;
  let sms: SmsReceiver;
  let a: AppProcess;
  let b: AppProcess;
  let nextIp = 1;
  /** A client address of its own for each caller (TRUST_PROXY: the per-IP budgets key on it). */
  const from = (ip = `203.0.113.${nextIp++}`) => ({ headers: { 'x-forwarded-for': ip } });

  beforeAll(async () => {
    const template = new URL(process.env.TEST_DATABASE_URL!);
    const admin = new URL(template);
    admin.pathname = '/postgres';
    maintenance = new Client({ connectionString: admin.toString() });
    await maintenance.connect();
    await maintenance.query(`CREATE DATABASE "${name}"`);
    const target = new URL(template);
    target.pathname = `/${name}`;
    url = target.toString();
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
    // Both at once, on a database without a schema.
    [a, b] = await Promise.all([spawnApp(env, { waitFor: 'ready' }), spawnApp(env, { waitFor: 'ready' })]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await mail?.close();
    await sms?.close();
    await maintenance?.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await maintenance?.end();
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

  it('both started together and the schema was migrated once; they share the signing key', async () => {
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
    const count = 40;
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
});
