import { DataSource } from 'typeorm';
import { NotificationsService, OutgoingMessage } from '../src/notifications/notifications.service';
import { OutboxDispatcher } from '../src/notifications/outbox-dispatcher.service';
import { GOOD_PASSWORD, startApp, TestApp, unique, uniquePhone } from './support/app';
import { codeIn, MailServer, startMailServer } from './support/mail';
import { SmsReceiver, startSmsReceiver } from './support/sms';

/** Polls `check` until it returns a truthy value (delivery is asynchronous by design). */
async function eventually<T>(check: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function outboxRow(db: DataSource, recipient: string) {
  const [row] = await db.query(`SELECT * FROM outbox_messages WHERE recipient = $1 ORDER BY created_at DESC LIMIT 1`, [recipient]);
  return row as
    { id: string; status: string; attempts: number; last_error: string | null; text_body: string; html_body: string | null; sent_at: Date | null } | undefined;
}

function message(to: string, channel: 'email' | 'sms' = 'email'): OutgoingMessage {
  return { userId: null, channel, to, template: channel === 'email' ? 'password-changed' : 'phone-verify', locale: 'en', params: { code: '123456' } };
}

/** The durable outbox: retries, no duplicates, several dispatchers on one database. */
describe('outbox delivery', () => {
  describe('SMTP down', () => {
    let mail: MailServer;
    let t: TestApp;
    beforeAll(async () => {
      mail = await startMailServer();
      t = await startApp({ SMTP_URL: mail.url, OUTBOX_RETRY_BASE_MS: '200', OUTBOX_POLL_INTERVAL_MS: '100' });
    });
    afterAll(async () => {
      await t.close();
      await mail.close();
    });

    it('keeps the message pending while the server is down and delivers it once after it is back', async () => {
      await mail.stop();
      const email = `${unique('down')}@example.com`;
      const registered = await t.http.post('/v1/auth/register', { email, password: GOOD_PASSWORD });
      expect(registered.status).toBe(201);

      const failed = await eventually(async () => {
        const row = await outboxRow(t.db, email);
        return row && row.attempts >= 2 ? row : undefined;
      }, 'two failed attempts');
      expect(failed.status).toBe('pending');
      expect(failed.last_error).toBeTruthy();
      expect(failed.text_body).toContain('confirmation code');

      await mail.start();
      const received = await mail.waitFor((m) => m.to === email, 20_000);
      const sent = await eventually(async () => {
        const row = await outboxRow(t.db, email);
        return row?.status === 'sent' ? row : undefined;
      }, 'the row marked sent');

      expect(codeIn(received.text)).toMatch(/^\d{6}$/);
      expect(sent.sent_at).toBeTruthy();
      expect(sent.last_error).toBeNull();
      // Delivered: the code is not kept in the outbox.
      expect(sent.text_body).toBe('');
      expect(sent.html_body).toBeNull();
      // No copy can still be on its way: the only row is sent, and after one more full pass (a
      // delivery ends only once the SMTP server has the message) nothing else arrived.
      expect(await t.db.query(`SELECT status FROM outbox_messages WHERE recipient = $1`, [email])).toEqual([{ status: 'sent' }]);
      const dispatcher = t.app.get(OutboxDispatcher);
      await dispatcher.idle();
      dispatcher.wake();
      await dispatcher.idle();
      expect(mail.mailsTo(email)).toHaveLength(1);
    });
  });

  // Alone in its describe: no other app's dispatcher may deliver this message while it runs.
  describe('an unreachable SMTP server', () => {
    it('gives up after OUTBOX_MAX_ATTEMPTS and erases the body', async () => {
      const giveUp = await startApp({ SMTP_URL: 'smtp://127.0.0.1:1', OUTBOX_RETRY_BASE_MS: '10', OUTBOX_POLL_INTERVAL_MS: '50', OUTBOX_MAX_ATTEMPTS: '3' });
      try {
        const to = `${unique('never')}@example.com`;
        await giveUp.app.get(NotificationsService).send(message(to));

        const row = await eventually(async () => {
          const current = await outboxRow(giveUp.db, to);
          return current?.status === 'failed' ? current : undefined;
        }, 'the row marked failed');

        expect(row.attempts).toBe(3);
        expect(row.last_error).toMatch(/ECONNREFUSED|connect/i);
        expect(row.text_body).toBe('');
      } finally {
        await giveUp.close();
      }
    });
  });

  describe('SMS gateway errors', () => {
    let sms: SmsReceiver;
    let t: TestApp;
    beforeAll(async () => {
      sms = await startSmsReceiver();
      t = await startApp({ SMS_WEBHOOK_URL: sms.url, OUTBOX_RETRY_BASE_MS: '50', OUTBOX_POLL_INTERVAL_MS: '50' });
    });
    afterAll(async () => {
      await t.close();
      await sms.close();
    });

    it('retries a gateway that answers 503 and delivers once', async () => {
      const phone = uniquePhone();
      sms.failNext(2, 503);

      await t.app.get(NotificationsService).send(message(phone, 'sms'));

      const received = await sms.waitFor((m) => m.to === phone);
      expect(received.text).toContain('123456');
      const row = await eventually(async () => {
        const current = await outboxRow(t.db, phone);
        return current?.status === 'sent' ? current : undefined;
      }, 'the row marked sent');
      expect(row.attempts).toBe(3);
      expect(sms.failedAttempts).toBeGreaterThanOrEqual(2);
      expect(sms.to(phone)).toHaveLength(1);
    });

    it('posts {"to","text"} as JSON', async () => {
      const phone = uniquePhone();
      await t.app.get(NotificationsService).send(message(phone, 'sms'));

      const received = await sms.waitFor((m) => m.to === phone);

      expect(received.headers['content-type']).toMatch(/^application\/json/);
      expect(received.text).toBe('Your confirmation code: 123456. Valid for 10 minutes. Do not share it with anyone.');
    });
  });

  describe('two dispatchers on one database', () => {
    let mail: MailServer;
    let first: TestApp;
    let second: TestApp;
    beforeAll(async () => {
      mail = await startMailServer();
      // Neither wakes on its own schedule during the setup below: both start polling at once when told.
      const env = { SMTP_URL: mail.url, OUTBOX_POLL_INTERVAL_MS: '60000' };
      first = await startApp(env);
      second = await startApp(env);
    });
    afterAll(async () => {
      await first.close();
      await second.close();
      await mail.close();
    });

    it('never send a message twice', async () => {
      const recipients = Array.from({ length: 40 }, () => `${unique('race')}@example.com`);
      const notifications = first.app.get(NotificationsService);
      await first.db.transaction(async (manager) => {
        for (const to of recipients) await notifications.enqueue(manager, message(to));
      });

      const dispatchers = [first.app.get(OutboxDispatcher), second.app.get(OutboxDispatcher)];
      for (let round = 0; round < 3; round++) dispatchers.forEach((dispatcher) => dispatcher.wake());
      await eventually(async () => {
        const [{ n }] = await first.db.query(`SELECT count(*)::int AS n FROM outbox_messages WHERE recipient = ANY($1) AND status = 'sent'`, [recipients]);
        return n === recipients.length;
      }, 'all 40 messages sent');
      await Promise.all(dispatchers.map((dispatcher) => dispatcher.idle()));

      for (const to of recipients) expect(mail.mailsTo(to)).toHaveLength(1);
      expect(mail.messages.filter((m) => recipients.includes(m.to))).toHaveLength(recipients.length);
    });
  });

  describe('a code and its message are one transaction', () => {
    let t: TestApp;
    beforeAll(async () => (t = await startApp()));
    afterAll(() => t.close());

    it('a request refused by the cooldown stores neither a code nor a message', async () => {
      const email = `${unique('tx')}@example.com`;
      const registered = await t.http.post('/v1/auth/register', { email, password: GOOD_PASSWORD });
      const login = await t.http.post('/v1/auth/login', { login: email, password: GOOD_PASSWORD });
      const count = async () =>
        (
          await t.db.query(
            `SELECT (SELECT count(*) FROM verification_secrets WHERE user_id = $1)::int AS secrets,
                    (SELECT count(*) FROM outbox_messages WHERE user_id = $1)::int AS messages`,
            [registered.body.id],
          )
        )[0];
      const before = await count();

      const refused = await t.http.post('/v1/me/email/verification', undefined, { token: login.body.accessToken });

      expect(refused.status).toBe(429);
      expect(await count()).toEqual(before);
      expect(before).toEqual({ secrets: 2, messages: 1 });
    });
  });

  describe('without SMTP_URL (npm start on a fresh machine)', () => {
    let t: TestApp;
    beforeAll(async () => (t = await startApp()));
    afterAll(() => t.close());

    it('writes the e-mail, with its code and link, to the log', async () => {
      const email = `${unique('console')}@example.com`;
      await t.http.post('/v1/auth/register', { email, password: GOOD_PASSWORD });

      const line = await eventually(async () => t.logs.find((entry) => entry.delivery === 'log' && entry.to === email), 'the log line');

      expect(line.msg).toContain(`E-mail to ${email}`);
      expect(String(line.msg)).toMatch(/Your confirmation code: \d{6}/);
      expect(String(line.msg)).toContain('http://localhost:3000/v1/auth/email/confirm?token=');
    });
  });
});
