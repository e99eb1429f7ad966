import { DataSource } from 'typeorm';
import { GOOD_PASSWORD, startApp, TestApp, unique, uniquePhone } from '../support/app';
import { DeliveryTestApp, startAppWithDelivery } from '../support/delivery';
import { expectProblem } from '../support/expect';
import { HttpClient, HttpResponse } from '../support/http';
import { codeIn } from '../support/mail';
import { registerAndLogin, SignedInUser } from '../support/users';

/**
 * SPEC §9 rule 5: guessing and flooding are bounded per account and per client, in PostgreSQL,
 * so every instance shares the budgets. The apps of this file share one database.
 */
describe('SPEC §9 rule 5: limits per client and per account', () => {
  const WRONG = 'Definitely-not-it 99';

  function retryAfter(res: HttpResponse): number {
    return Number(res.headers.get('retry-after'));
  }

  /** Waits until every message of these accounts left the outbox (sent or failed), so counts are final. */
  async function settled(db: DataSource, userIds: string[]): Promise<void> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM outbox_messages WHERE user_id = ANY($1) AND status = 'pending'`, [userIds]);
      if (n === 0) return;
      if (Date.now() > deadline) throw new Error(`${n} messages still pending`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async function queuedFor(db: DataSource, userId: string): Promise<number> {
    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM outbox_messages WHERE user_id = $1`, [userId]);
    return n;
  }

  /** An account registered through 002 (which sends nothing) and signed in there. */
  async function register002(http: HttpClient): Promise<{ id: string; email: string; access: string }> {
    const email = `${unique('lim')}@example.com`;
    expect((await http.post('/users/auth/registration/', { email, password: GOOD_PASSWORD })).status).toBe(201);
    const token = await http.post('/users/auth/token/', { email, password: GOOD_PASSWORD });
    expect(token.status).toBe(200);
    const me = await http.get('/users/user/', { token: token.body.access });
    return { id: me.body.id, email, access: token.body.access };
  }

  // ---------------------------------------------------------------------------------------------
  describe('one per-client budget covers the sign-in routes of every surface together', () => {
    const BUDGET = 8;
    // Loopback is the trusted proxy; X-Forwarded-For plays the client. Nobody is allowlisted.
    const ENV = { TRUST_PROXY: '127.0.0.1', RATE_LIMIT_ALLOWLIST: '', AUTH_RATE_LIMIT_PER_MINUTE: String(BUDGET), OUTBOX_DISPATCH: 'false' };
    let a: TestApp;
    let b: TestApp;
    let nextOctet = 1;
    const clientAddress = () => `198.51.100.${nextOctet++}`;

    beforeAll(async () => {
      a = await startApp(ENV);
      b = await startApp(ENV);
    });
    afterAll(async () => {
      await a.close();
      await b.close();
    });

    interface SignInRoute {
      surface: string;
      send(http: HttpClient, ip: string): Promise<HttpResponse>;
      /** The surface's envelope of a wrong password, and of a spent budget. */
      wrong(res: HttpResponse): void;
      limited(res: HttpResponse): void;
    }

    const nobody = () => `${unique('nobody')}@example.com`;
    const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });
    const ROUTES: SignInRoute[] = [
      {
        surface: '/v1',
        send: (http, ip) => http.post('/v1/auth/login', { login: nobody(), password: WRONG }, from(ip)),
        wrong: (res) => expectProblem(res, 401, 'InvalidCredentials'),
        limited: (res) => expectProblem(res, 429, 'RateLimited'),
      },
      {
        surface: '001',
        send: (http, ip) => http.post('/auth/login', { email_or_name: nobody(), password: WRONG }, from(ip)),
        wrong: (res) => expect({ status: res.status, body: res.body }).toEqual({ status: 401, body: { status: 'error', message: expect.any(String) } }),
        limited: (res) =>
          expect({ status: res.status, body: res.body }).toEqual({ status: 429, body: { status: 'error', message: expect.stringMatching(/too many/) } }),
      },
      {
        surface: '002',
        send: (http, ip) => http.post('/users/auth/token/', { email: nobody(), password: WRONG }, from(ip)),
        wrong: (res) =>
          expect({ status: res.status, body: res.body }).toEqual({ status: 401, body: { detail: 'No active account found with the given credentials' } }),
        limited: (res) =>
          expect({ status: res.status, body: res.body }).toEqual({
            status: 429,
            body: { detail: expect.stringMatching(/^Request was throttled\. Expected available in \d+ seconds\.$/) },
          }),
      },
      {
        surface: '003',
        send: (http, ip) => http.post('/api/login', { username: nobody(), pwd: WRONG }, from(ip)),
        wrong: (res) => expect({ status: res.status, body: res.body }).toEqual({ status: 401, body: { status: 'ERR', msg: expect.any(String) } }),
        limited: (res) =>
          expect({ status: res.status, body: res.body }).toEqual({ status: 429, body: { status: 'ERR', msg: expect.stringMatching(/too many/) } }),
      },
    ];

    it('a client alternating between the sign-in routes of four surfaces gets 429 after the one budget, on each surface in its own envelope', async () => {
      const ip = clientAddress();
      for (let i = 0; i < BUDGET; i++) {
        const route = ROUTES[i % ROUTES.length];
        route.wrong(await route.send(a.http, ip));
      }
      for (const route of ROUTES) {
        const res = await route.send(a.http, ip);
        route.limited(res);
        expect(retryAfter(res)).toBeGreaterThanOrEqual(1);
        expect(retryAfter(res)).toBeLessThanOrEqual(60);
      }
    });

    it('another client address keeps its own whole budget', async () => {
      const busy = clientAddress();
      for (let i = 0; i < BUDGET; i++) await ROUTES[i % ROUTES.length].send(a.http, busy);
      ROUTES[0].limited(await ROUTES[0].send(a.http, busy));

      const other = clientAddress();
      for (const route of ROUTES) route.wrong(await route.send(a.http, other));
    });

    it('two instances on one database share the budget', async () => {
      const ip = clientAddress();
      for (let i = 0; i < BUDGET; i++) {
        const route = ROUTES[i % ROUTES.length];
        route.wrong(await route.send(i % 2 ? b.http : a.http, ip));
      }
      ROUTES[1].limited(await ROUTES[1].send(a.http, ip));
      ROUTES[2].limited(await ROUTES[2].send(b.http, ip));
    });

    it('a burst in parallel over both instances gets exactly the budget through, no more', async () => {
      const ip = clientAddress();
      const answers = await Promise.all(Array.from({ length: BUDGET * 3 }, (_, i) => ROUTES[i % ROUTES.length].send(i % 2 ? b.http : a.http, ip)));
      expect(answers.filter((res) => res.status !== 429).length).toBe(BUDGET);
      expect(answers.filter((res) => res.status === 401).length).toBe(BUDGET);
    });

    it('the budget is one counter per client in rate_limits, whichever surface is used', async () => {
      const ip = clientAddress();
      for (const route of ROUTES) await route.send(a.http, ip);
      const rows = await a.db.query(`SELECT budget, hits FROM rate_limits WHERE key = $1`, [ip]);
      expect(rows).toEqual([{ budget: 'sign-in', hits: ROUTES.length }]);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('profile changes are limited per account, over every surface together', () => {
    const LIMIT = 3;
    // The test apps allowlist loopback: per-account limits apply all the same.
    let p: TestApp;
    beforeAll(async () => (p = await startApp({ PROFILE_CHANGES_PER_HOUR: String(LIMIT), OUTBOX_DISPATCH: 'false' })));
    afterAll(() => p.close());

    it('/v1 PATCH /v1/me and 002 PATCH user/ draw on one budget; beyond it 429 in each envelope; reads and other accounts are unaffected', async () => {
      const user = await registerAndLogin(p.http);
      const token = { token: user.accessToken };
      for (let i = 0; i < LIMIT - 1; i++) expect((await p.http.patch('/v1/me', { name: `Anna ${i}` }, token)).status).toBe(200);
      expect((await p.http.patch('/users/user/', { name: 'Anna 002' }, token)).body).toEqual({ success: { Name: 'Name successfully changed' }, error: {} });

      const refused = await p.http.patch('/v1/me', { name: 'One too many' }, token);
      expectProblem(refused, 429, 'RateLimited');
      expect(retryAfter(refused)).toBeGreaterThan(3500);
      expect(retryAfter(refused)).toBeLessThanOrEqual(3600);
      const refused002 = await p.http.patch('/users/user/', { name: 'One too many' }, token);
      expect({ status: refused002.status, body: refused002.body }).toEqual({
        status: 429,
        body: { detail: expect.stringMatching(/^Request was throttled\. Expected available in \d+ seconds\.$/) },
      });
      expect(retryAfter(refused002)).toBeGreaterThan(3500);

      // Nothing of the refused requests applied; reading is not a change.
      const me = await p.http.get('/v1/me', token);
      expect({ status: me.status, name: me.body.name }).toEqual({ status: 200, name: 'Anna 002' });
      expect((await p.http.post('/api/users/profile', {}, token)).status).toBe(200);

      const other = await registerAndLogin(p.http);
      expect((await p.http.patch('/v1/me', { name: 'Boris' }, { token: other.accessToken })).status).toBe(200);
    });

    it('000 profile and 001 PUT /{id} count too, and so does a refused change: "is this e-mail taken?" cannot be probed in a loop', async () => {
      const taken = await registerAndLogin(p.http);
      const user = await registerAndLogin(p.http);
      const token = { token: user.accessToken };
      const probe = await p.http.post('/api/users/profile', { email: taken.email }, token);
      expect(probe.status).toBe(409);
      expect((await p.http.put(`/${user.id}`, { name: 'Vera' }, token)).body).toEqual({ status: 'success' });
      expect((await p.http.post('/api/users/profile', { name: 'Vera 000' }, token)).status).toBe(200);

      const refused001 = await p.http.put(`/${user.id}`, { name: 'Vera again' }, token);
      expect({ status: refused001.status, body: refused001.body }).toEqual({
        status: 429,
        body: { status: 'error', message: expect.stringMatching(/too many profile changes/) },
      });
      const refused000 = await p.http.post('/api/users/profile', { email: taken.email }, token);
      expect({ status: refused000.status, body: refused000.body }).toEqual({
        status: 429,
        body: { statusCode: 429, message: expect.stringMatching(/too many profile changes/), error: 'Too Many Requests' },
      });
      expect(retryAfter(refused000)).toBeGreaterThan(3500);
    });

    it('documents the 429 of every profile-update and sign-in route', async () => {
      const doc = (await p.http.get('/docs-json', { notAnOperation: true })).body;
      const operations: [string, string][] = [
        ['/v1/me', 'patch'],
        ['/v1/me/email/change', 'post'],
        ['/api/users/profile', 'post'],
        ['/{userId}', 'put'],
        ['/users/user', 'patch'],
        ['/v1/auth/login', 'post'],
        ['/auth/login', 'post'],
        ['/users/auth/token', 'post'],
        ['/api/login', 'post'],
      ];
      for (const [path, method] of operations) {
        expect({ path, method, has429: Object.keys(doc.paths[path]?.[method]?.responses ?? {}).includes('429') }).toEqual({ path, method, has429: true });
      }
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('each account has a daily cap on the e-mails and SMS it can cause; SMS have a global hourly budget', () => {
    const MAX_EMAILS = 20;
    const MAX_SMS = 10;
    // This app delivers every message of the file's database (the others run OUTBOX_DISPATCH=false).
    let d: DeliveryTestApp;
    beforeAll(async () => (d = await startAppWithDelivery({ PROFILE_CHANGES_PER_HOUR: '1000' })));
    afterAll(() => d.close());

    it('002: PATCH user/ {email, password} in a loop to new third-party addresses: at most MAX_EMAILS_PER_DAY e-mails in all, and every change still applies', async () => {
      const user = await register002(d.http);
      const thirdParties: string[] = [];
      for (let i = 0; i < MAX_EMAILS + 5; i++) {
        const email = `${unique('victim')}@example.org`;
        thirdParties.push(email);
        const res = await d.http.patch('/users/user/', { email, password: `Loop passphrase number ${i}` }, { token: user.access });
        expect({ status: res.status, body: res.body }).toEqual({
          status: 200,
          body: { success: { Email: 'Email successfully changed', Password: 'Password successfully changed' }, error: {} },
        });
      }
      await settled(d.db, [user.id]);
      const received = d.mail.messages.filter((mail) => thirdParties.includes(mail.to));
      expect(received.length).toBeLessThanOrEqual(MAX_EMAILS);
      expect(await queuedFor(d.db, user.id)).toBeLessThanOrEqual(MAX_EMAILS);
    });

    it('at the cap a security notice is dropped and logged, and the change it reports still applies', async () => {
      const user = await register002(d.http);
      const token = { token: user.access };
      // A verified address (one e-mail), so notices go there (SPEC §9 rule 3) …
      expect((await d.http.post('/users/verify-email/', undefined, token)).status).toBe(200);
      const code = codeIn((await d.mail.waitFor((mail) => mail.to === user.email)).text);
      expect((await d.http.post('/users/accept-email/', { code }, token)).status).toBe(200);
      // … and the rest of the day's e-mails spent on password-change codes (000 sendCode).
      for (let i = 1; i < MAX_EMAILS; i++) {
        await d.endCooldown(user.email);
        expect((await d.http.post('/api/users/sendCode', undefined, token)).status).toBe(200);
      }
      await d.endCooldown(user.email);
      expect((await d.http.post('/api/users/sendCode', undefined, token)).status).toBe(429);

      const changed = await d.http.patch('/users/user/', { password: 'A brand new passphrase 7' }, token);
      expect(changed.body).toEqual({ success: { Password: 'Password successfully changed' }, error: {} });
      expect((await d.http.post('/users/auth/token/', { email: user.email, password: 'A brand new passphrase 7' })).status).toBe(200);

      await settled(d.db, [user.id]);
      expect(d.mail.mailsTo(user.email).length).toBe(MAX_EMAILS);
      expect(d.mail.mailsTo(user.email).filter((mail) => /password was changed/i.test(mail.subject))).toEqual([]);
      expect(d.logs.some((line) => line.msg === 'message cap reached: message dropped' && line.template === 'password-changed')).toBe(true);
    });

    it("/v1 e-mail change at the cap: the same 429 whether the new address is free or another account's (no oracle)", async () => {
      const other = await registerAndLogin(d.http);
      const user = await registerAndLogin(d.http); // its welcome message is the first e-mail of the day
      const token = { token: user.accessToken };
      for (let i = 1; i < MAX_EMAILS; i++) {
        expect((await d.http.post('/v1/me/email/change', { email: `${unique('new')}@example.org` }, token)).status).toBe(202);
      }
      const free = await d.http.post('/v1/me/email/change', { email: `${unique('new')}@example.org` }, token);
      const taken = await d.http.post('/v1/me/email/change', { email: other.email }, token);
      expectProblem(free, 429, 'RateLimited');
      expectProblem(taken, 429, 'RateLimited');
      expect(taken.body.detail).toBe(free.body.detail);
    });

    it('002: PATCH user/ {email} + verify-email/ to new third-party addresses stops at MAX_EMAILS_PER_DAY with 429; "forgot password" then answers as before and sends nothing', async () => {
      const user = await register002(d.http);
      const token = { token: user.access };
      const thirdParties: string[] = [];
      for (let i = 0; i < MAX_EMAILS; i++) {
        const email = `${unique('victim')}@example.org`;
        thirdParties.push(email);
        expect((await d.http.patch('/users/user/', { email }, token)).status).toBe(200);
        const sent = await d.http.post('/users/verify-email/', undefined, token);
        expect(sent.status).toBe(200);
      }
      const email = `${unique('victim')}@example.org`;
      expect((await d.http.patch('/users/user/', { email }, token)).status).toBe(200);
      const refused = await d.http.post('/users/verify-email/', undefined, token);
      expect({ status: refused.status, body: refused.body }).toEqual({
        status: 429,
        body: { detail: expect.stringMatching(/^Request was throttled\. Expected available in \d+ seconds\.$/) },
      });
      expect(retryAfter(refused)).toBeGreaterThan(86_000);
      // The same account through another surface: 000 sendCode.
      const sendCode = await d.http.post('/api/users/sendCode', undefined, token);
      expect({ status: sendCode.status, message: sendCode.body.message }).toEqual({ status: 429, message: expect.stringMatching(/daily limit of e-mails/) });

      // Anti-enumeration: the capped account's "forgot password" answers exactly like an unknown address's.
      const known = await d.http.post('/v1/auth/password/forgot', { email });
      const unknown = await d.http.post('/v1/auth/password/forgot', { email: `${unique('nobody')}@example.org` });
      expect({ status: known.status, body: known.body }).toEqual({ status: unknown.status, body: unknown.body });
      expect(known.status).toBe(202);
      await new Promise((resolve) => setTimeout(resolve, 300)); // the code would be written just after the answer
      await settled(d.db, [user.id]);

      expect(d.mail.messages.filter((mail) => thirdParties.includes(mail.to)).length).toBe(MAX_EMAILS);
      expect(d.mail.mailsTo(email)).toEqual([]);
      expect(await queuedFor(d.db, user.id)).toBe(MAX_EMAILS);
      expect(d.logs.some((line) => line.msg === 'message cap reached: no code sent')).toBe(true);
    });

    it('/v1: PATCH /v1/me {phone} + phone verification to new numbers stops at MAX_SMS_PER_DAY (429 problem)', async () => {
      const user = await registerAndLogin(d.http);
      const token = { token: user.accessToken };
      const phones: string[] = [];
      for (let i = 0; i < MAX_SMS; i++) {
        const phone = uniquePhone();
        phones.push(phone);
        expect((await d.http.patch('/v1/me', { phone }, token)).status).toBe(200);
        expect((await d.http.post('/v1/me/phone/verification', undefined, token)).status).toBe(202);
      }
      const phone = uniquePhone();
      expect((await d.http.patch('/v1/me', { phone }, token)).status).toBe(200);
      const refused = await d.http.post('/v1/me/phone/verification', undefined, token);
      expectProblem(refused, 429, 'RateLimited');
      expect(refused.body.detail).toMatch(/daily limit of text messages/);
      expect(retryAfter(refused)).toBeGreaterThan(86_000);

      await settled(d.db, [user.id]);
      expect(d.sms.messages.filter((sms) => phones.includes(sms.to)).length).toBe(MAX_SMS);
      expect(d.sms.to(phone)).toEqual([]);
    });

    describe('with a small global SMS budget (SMS_GLOBAL_PER_HOUR=3)', () => {
      let g: TestApp;
      beforeAll(async () => {
        g = await startApp({ SMS_GLOBAL_PER_HOUR: '3', OUTBOX_DISPATCH: 'false' });
        // Other tests of this file sent SMS against the same (database-wide) budget.
        await g.db.query(`DELETE FROM rate_limits WHERE budget = 'sms-global'`);
      });
      afterAll(() => g.close());

      it('a spread over many accounts, one SMS each, stops at the global budget; the refused account keeps its own', async () => {
        const users: SignedInUser[] = [];
        const statuses: number[] = [];
        for (let i = 0; i < 4; i++) {
          const user = await registerAndLogin(g.http);
          users.push(user);
          const res = await g.http.post('/v1/me/phone/verification', undefined, { token: user.accessToken });
          statuses.push(res.status);
          if (res.status === 429) {
            expectProblem(res, 429, 'RateLimited');
            expect(res.body.detail).toMatch(/text messages cannot be sent/);
            expect(retryAfter(res)).toBeGreaterThan(3500);
          }
        }
        expect(statuses).toEqual([202, 202, 202, 429]);

        await settled(
          g.db,
          users.map((user) => user.id),
        );
        expect(d.sms.messages.filter((sms) => users.some((user) => user.phone === sms.to)).length).toBe(3);
        const [own] = await g.db.query(`SELECT hits FROM rate_limits WHERE budget = 'sms' AND key = $1`, [users[3].id]);
        expect(own?.hits ?? 0).toBe(0);
      });
    });
  });
});
