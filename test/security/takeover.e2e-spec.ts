import { OutboxDispatcher } from '../../src/notifications/outbox-dispatcher.service';
import { VerificationService } from '../../src/verification/verification.service';
import { GOOD_PASSWORD, unique, uniquePhone } from '../support/app';
import { DeliveryTestApp, PUBLIC_URL, startAppWithDelivery } from '../support/delivery';
import { expectProblem } from '../support/expect';
import { codeIn, linkIn, ReceivedMail } from '../support/mail';
import { lockState } from '../support/lockout';
import { markContactsVerified, registerAndLogin, SignedInUser } from '../support/users';

const NEW_PASSWORD = 'A brand-new passphrase 2026';
const ATTACKER_PASSWORD = 'The attacker passphrase 77';

/**
 * SPEC §9, as the attacker meets it: each scenario was reproduced against the service before the
 * account-security work and must now be refused, on at least two surfaces where it applies. Mail
 * and SMS are read from the real SMTP server and SMS receiver the test runs.
 */
describe('account takeover paths (SPEC §9)', () => {
  let t: DeliveryTestApp;

  beforeAll(async () => {
    t = await startAppWithDelivery({ EMAIL_RESEND_COOLDOWN: '0', SMS_RESEND_COOLDOWN: '0' });
  });
  afterAll(() => t.close());

  /** Every queued message has been handed to the SMTP server or SMS receiver. */
  async function delivered(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    await t.app.get(VerificationService).settled();
    await t.app.get(OutboxDispatcher).idle();
  }

  const v1Login = (login: string, password: string) => t.http.post('/v1/auth/login', { login, password });

  /** A user whose e-mail is verified and whose registration mail has arrived. */
  async function owner(): Promise<SignedInUser> {
    const user = await registerAndLogin(t.http);
    await t.mail.waitFor((m) => m.to === user.email);
    await markContactsVerified(t.db, user.id, { email: true });
    return user;
  }

  const mailsTo = (address: string) => t.mail.messages.filter((m) => m.to === address.toLowerCase());
  const nextMail = (address: string, subject: string, after = new Set<ReceivedMail>(t.mail.messages)) =>
    t.mail.waitFor((m) => !after.has(m) && m.to === address.toLowerCase() && m.subject === subject);

  async function v1ResetLink(email: string): Promise<string> {
    const before = new Set(t.mail.messages);
    expect((await t.http.post('/v1/auth/password/forgot', { email })).status).toBe(202);
    const message = await nextMail(email, 'Reset your password', before);
    return new URL(linkIn(message.text, '/v1/auth/password/reset')).searchParams.get('token')!;
  }

  async function legacy003ResetToken(email: string): Promise<string> {
    const before = new Set(t.mail.messages);
    expect((await t.http.post('/api/reset_password_request', { username: email })).status).toBe(200);
    const message = await nextMail(email, 'Reset your password', before);
    return linkIn(message.text, '/api/reset_password/').split('/api/reset_password/')[1];
  }

  describe('rule 1: a stale reset link', () => {
    it('/v1: a link requested before the e-mail changed (through 000) no longer resets', async () => {
      const anna = await owner();
      const token = await v1ResetLink(anna.email);
      expect((await t.http.post('/api/users/profile', { email: `${unique('moved')}@example.com` }, { token: anna.accessToken })).status).toBe(200);

      expectProblem(await t.http.post('/v1/auth/password/reset', { token, password: NEW_PASSWORD }), 400, 'InvalidCode');
      expect((await v1Login(anna.username, NEW_PASSWORD)).status).toBe(401);
    });

    it('003: a link requested before the password changed (through /v1) no longer resets', async () => {
      const anna = await owner();
      const token = await legacy003ResetToken(anna.email);
      expect((await t.http.put('/v1/me/password', { currentPassword: GOOD_PASSWORD, newPassword: NEW_PASSWORD }, { token: anna.accessToken })).status).toBe(
        204,
      );

      const res = await t.http.post(`/api/reset_password/${token}`, { new_pwd: ATTACKER_PASSWORD });
      expect(res.body.status).toBe('ERR');
      expect((await v1Login(anna.email, ATTACKER_PASSWORD)).status).toBe(401);
      expect((await v1Login(anna.email, NEW_PASSWORD)).status).toBe(200);
    });

    it('002 → /v1: a code requested before the e-mail changed (through 002) no longer resets', async () => {
      const anna = await owner();
      const before = new Set(t.mail.messages);
      await t.http.post('/v1/auth/password/forgot', { email: anna.email });
      const code = codeIn((await nextMail(anna.email, 'Reset your password', before)).text);
      const moved = `${unique('moved')}@example.com`;
      expect((await t.http.patch('/users/user/', { email: moved }, { token: anna.accessToken })).body.success).toHaveProperty('Email');

      for (const email of [anna.email, moved]) {
        expectProblem(await t.http.post('/v1/auth/password/reset', { email, code, password: NEW_PASSWORD }), 400, 'InvalidCode');
      }
    });
  });

  describe('rule 2: a squatted contact', () => {
    /** The attacker registers the victim's e-mail with their own phone (002 sends nothing to the e-mail). */
    async function squat(): Promise<{ email: string; phone: string; userId: string }> {
      const email = `${unique('victim')}@example.com`;
      const phone = uniquePhone();
      const res = await t.http.post('/users/auth/registration/', { email, number: phone, password: ATTACKER_PASSWORD });
      expect(res.status).toBe(201);
      const [{ id }] = await t.db.query('SELECT id FROM users WHERE email = $1', [email]);
      return { email, phone, userId: id };
    }

    it("/v1 + 004: once the owner recovers by e-mail, the attacker's phone is detached and its SMS reset leads nowhere", async () => {
      const { email, phone } = await squat();
      const before = new Set(t.mail.messages);
      await t.http.post('/v1/auth/password/forgot', { email });
      const code = codeIn((await nextMail(email, 'Reset your password', before)).text);
      expect((await t.http.post('/v1/auth/password/reset', { email, code, password: NEW_PASSWORD })).status).toBe(204);
      const notice = await nextMail(email, 'Your password was reset', before);
      expect(notice.text).toContain(phone);

      // The attacker asks 004 for an SMS code: the same answer as ever, but no SMS goes out and no code works.
      const smsBefore = t.sms.messages.length;
      const asked = await t.http.patch('/me/password', { phone });
      expect(asked.status).toBe(200);
      await delivered();
      expect(t.sms.messages.slice(smsBefore).filter((m) => m.to === phone)).toEqual([]);
      const takeBack = await t.http.patch('/me/password', { phone, code: '000000', password: ATTACKER_PASSWORD });
      expect(takeBack.status).toBe(400);
      expect((await v1Login(email, NEW_PASSWORD)).status).toBe(200);
      expect((await v1Login(phone, ATTACKER_PASSWORD)).status).toBe(401);
    });

    it('003: a reset by the e-mailed link detaches the unverified phone too', async () => {
      const { email, phone, userId } = await squat();
      const token = await legacy003ResetToken(email);
      expect((await t.http.post(`/api/reset_password/${token}`, { new_pwd: NEW_PASSWORD })).body.status).toBe('OK');

      const [row] = await t.db.query('SELECT email, email_verified_at, phone FROM users WHERE id = $1', [userId]);
      expect(row).toMatchObject({ email, email_verified_at: expect.any(Date), phone: null });
      const smsBefore = t.sms.messages.length;
      expect((await t.http.post('/v1/auth/password/forgot', { phone })).status).toBe(202);
      await delivered();
      expect(t.sms.messages.slice(smsBefore)).toEqual([]);
    });

    it('a verified phone stays: rule 2 detaches only contacts nobody proved', async () => {
      const anna = await owner();
      await markContactsVerified(t.db, anna.id, { phone: true });
      const before = new Set(t.mail.messages);
      await t.http.post('/v1/auth/password/forgot', { email: anna.email });
      const code = codeIn((await nextMail(anna.email, 'Reset your password', before)).text);
      expect((await t.http.post('/v1/auth/password/reset', { email: anna.email, code, password: NEW_PASSWORD })).status).toBe(204);
      const [row] = await t.db.query('SELECT phone FROM users WHERE id = $1', [anna.id]);
      expect(row.phone).toBe(anna.phone);
    });
  });

  describe('rules 3 and 4: a stolen access token', () => {
    it('/v1: the e-mail cannot be changed in one step, nor without fresh proof', async () => {
      const anna = await owner();
      const thief = `${unique('thief')}@example.com`;
      expectProblem(await t.http.patch('/v1/me', { email: thief }, { token: anna.accessToken }), 400, 'ValidationFailed');
      // A token of a session that signed in long ago (its auth_time is stale) needs the password.
      await t.db.query(`UPDATE sessions SET created_at = now() - interval '1 hour' WHERE id = $1`, [anna.sessionId]);
      const refreshed = await t.http.post('/v1/auth/refresh', { refreshToken: anna.refreshToken });
      const stale = refreshed.body.accessToken;
      expectProblem(await t.http.post('/v1/me/email/change', { email: thief }, { token: stale }), 403, 'ReauthenticationRequired');
      expectProblem(await t.http.patch('/v1/me', { phone: uniquePhone() }, { token: stale }), 403, 'ReauthenticationRequired');
      expectProblem(await t.http.delete('/v1/me', {}, { token: stale }), 403, 'ReauthenticationRequired');
      expectProblem(await t.http.post('/v1/me/email/change', { email: thief, currentPassword: 'not the password' }, { token: stale }), 403, 'WrongPassword');
      expect(mailsTo(thief)).toEqual([]);
      expect((await t.http.get('/v1/me', { token: stale })).body.email).toBe(anna.email);
    });

    it('/v1 two-step change: applies only with the code sent to the new address, and the old address can undo it', async () => {
      const anna = await owner();
      const next = `${unique('next')}@example.com`;
      const sent = await t.http.post('/v1/me/email/change', { email: next }, { token: anna.accessToken });
      expect(sent.status).toBe(202);
      expect((await t.http.get('/v1/me', { token: anna.accessToken })).body.email).toBe(anna.email);
      const before = new Set(t.mail.messages);
      const code = codeIn((await t.mail.waitFor((m) => m.to === next && m.subject === 'Confirm your new e-mail address')).text);

      const confirmed = await t.http.post('/v1/me/email/change/confirm', { code }, { token: anna.accessToken });
      expect(confirmed.status).toBe(200);
      expect(confirmed.body).toMatchObject({ email: next, emailVerified: true });

      const notice = await nextMail(anna.email, 'The e-mail address of your account was changed', before);
      const revert = linkIn(notice.text, '/v1/auth/email/revert');
      expect(revert.startsWith(`${PUBLIC_URL}/v1/auth/email/revert?token=`)).toBe(true);
      const undone = await t.http.get(revert.slice(PUBLIC_URL.length));
      expect(undone.status).toBe(200);
      expect((await v1Login(anna.email, GOOD_PASSWORD)).status).toBe(200);
      expect((await t.http.get('/v1/me', { token: anna.accessToken })).status).toBe(401);
      await nextMail(anna.email, 'Reset your password', before);
    });

    it('/v1 two-step change to an address of another account: the same answer, and nothing goes there', async () => {
      const anna = await owner();
      const other = await owner();
      const taken = await t.http.post('/v1/me/email/change', { email: other.email }, { token: anna.accessToken });
      const free = await t.http.post('/v1/me/email/change', { email: `${unique('free')}@example.com` }, { token: anna.accessToken });
      expect(taken.status).toBe(202);
      expect(Object.keys(taken.body)).toEqual(Object.keys(free.body));
      expect(taken.body.expiresIn).toBe(free.body.expiresIn);
      await delivered();
      expect(mailsTo(other.email).filter((m) => m.subject === 'Confirm your new e-mail address')).toEqual([]);
    });

    it('002: an e-mail changed with a stolen token is announced to the verified address, whose link restores it and ends every session', async () => {
      const anna = await owner();
      const thief = `${unique('thief')}@example.com`;
      const before = new Set(t.mail.messages);
      const changed = await t.http.patch('/users/user/', { email: thief }, { token: anna.accessToken });
      expect(changed.body.success).toHaveProperty('Email');

      const notice = await nextMail(anna.email, 'The e-mail address of your account was changed', before);
      const revert = linkIn(notice.text, '/v1/auth/email/revert');
      // "Forgot password" to the thief's address now finds nothing to reset with a code from the old one,
      // and the owner's link undoes the change.
      expect((await t.http.get(revert.slice(PUBLIC_URL.length))).status).toBe(200);
      const [row] = await t.db.query('SELECT email, email_verified_at FROM users WHERE id = $1', [anna.id]);
      expect(row).toMatchObject({ email: anna.email, email_verified_at: expect.any(Date) });
      expect((await t.http.get('/users/user/', { token: anna.accessToken })).status).toBe(401);
      await nextMail(anna.email, 'Reset your password', before);
      expect(mailsTo(thief)).toEqual([]);
      // Single use.
      expectProblem(await t.http.get(revert.slice(PUBLIC_URL.length)), 400, 'InvalidCode');
    });

    it('001: a password changed by PUT /{id} with no current password is announced to the verified address, and ends the other sessions', async () => {
      const anna = await owner();
      const other = await v1Login(anna.email, GOOD_PASSWORD);
      const before = new Set(t.mail.messages);
      const res = await t.http.put(`/${anna.id}`, { password: ATTACKER_PASSWORD }, { token: anna.accessToken });
      expect(res.status).toBe(200);

      await nextMail(anna.email, 'Your password was changed', before);
      expect((await t.http.get('/v1/me', { token: other.body.accessToken })).status).toBe(401);
    });

    it('the revert link survives later changes: two changes by the thief, and the first notice still undoes them', async () => {
      const anna = await owner();
      const before = new Set(t.mail.messages);
      await t.http.post('/api/users/profile', { email: `${unique('thief')}@example.com` }, { token: anna.accessToken });
      await t.http.post('/api/users/profile', { email: `${unique('thief2')}@example.com` }, { token: anna.accessToken });
      const notice = await nextMail(anna.email, 'The e-mail address of your account was changed', before);

      expect((await t.http.get(linkIn(notice.text, '/v1/auth/email/revert').slice(PUBLIC_URL.length))).status).toBe(200);
      const [row] = await t.db.query('SELECT email FROM users WHERE id = $1', [anna.id]);
      expect(row.email).toBe(anna.email);
    });

    it('a revert link for an address another account took since ends the sessions but restores nothing and sends no reset link', async () => {
      const anna = await owner();
      const before = new Set(t.mail.messages);
      await t.http.post('/api/users/profile', { email: `${unique('thief')}@example.com` }, { token: anna.accessToken });
      const notice = await nextMail(anna.email, 'The e-mail address of your account was changed', before);
      // The freed address is registered by someone else before the owner reacts.
      expect((await t.http.post('/users/auth/registration/', { email: anna.email, password: ATTACKER_PASSWORD })).status).toBe(201);

      const undone = await t.http.get(linkIn(notice.text, '/v1/auth/email/revert').slice(PUBLIC_URL.length));
      expect(undone.status).toBe(200);
      expect(undone.body.message).toContain('could not be restored');
      expect((await t.http.get('/v1/me', { token: anna.accessToken })).status).toBe(401);
      await delivered();
      expect(mailsTo(anna.email).filter((m) => !before.has(m) && m.subject === 'Reset your password')).toEqual([]);
    });

    it('notices never go to an address that was only just set and not verified', async () => {
      const anna = await registerAndLogin(t.http); // nothing verified
      const thief = `${unique('thief')}@example.com`;
      await t.http.patch('/users/user/', { email: thief }, { token: anna.accessToken });
      await t.http.patch('/users/user/', { password: ATTACKER_PASSWORD }, { token: anna.accessToken });
      await delivered();
      expect(mailsTo(thief)).toEqual([]);
    });
  });

  describe('floods', () => {
    it('002: PATCH {email, password} in a loop mails no third party and the owner at most one notice of each kind', async () => {
      const anna = await owner();
      const thieves: string[] = [];
      for (let i = 0; i < 10; i++) {
        const email = `${unique('loop')}@example.com`;
        thieves.push(email);
        const res = await t.http.patch('/users/user/', { email, password: `${ATTACKER_PASSWORD} ${i}` }, { token: anna.accessToken });
        expect(res.status).toBe(200);
      }
      await delivered();
      for (const email of thieves) expect(mailsTo(email)).toEqual([]);
      const toOwner = mailsTo(anna.email).map((m) => m.subject);
      expect(toOwner.filter((s) => s === 'The e-mail address of your account was changed')).toHaveLength(1);
      expect(toOwner.filter((s) => s === 'Your password was changed').length).toBeLessThanOrEqual(1);
    });
  });

  describe('rule 3: notices of one kind are coalesced', () => {
    it('001: three password changes in a row tell the verified address once', async () => {
      const anna = await owner();
      for (let i = 0; i < 3; i++) {
        expect((await t.http.put(`/${anna.id}`, { password: `${ATTACKER_PASSWORD} ${i}` }, { token: anna.accessToken })).status).toBe(200);
      }
      await delivered();
      expect(mailsTo(anna.email).filter((m) => m.subject === 'Your password was changed')).toHaveLength(1);
    });
  });

  describe('rule 5: wrong current passwords count toward the lockout', () => {
    it.each([
      [
        '/v1 PUT /v1/me/password',
        (token: string) => t.http.put('/v1/me/password', { currentPassword: 'wrong password!', newPassword: NEW_PASSWORD }, { token }),
      ],
      ['004 PATCH /me/password', (token: string) => t.http.patch('/me/password', { password: 'wrong password!', newPassword: NEW_PASSWORD }, { token })],
    ])('%s: ten wrong ones lock the account on every surface', async (_surface, attempt) => {
      const anna = await owner();
      for (let i = 0; i < 10; i++) expect((await attempt(anna.accessToken)).status).toBe(403);
      expect((await lockState(t.db, anna.id)).failed_count).toBe(10);

      expect((await attempt(anna.accessToken)).status).toBe(429);
      expect((await v1Login(anna.email, GOOD_PASSWORD)).status).toBe(429);
      expect((await t.http.post('/api/login', { username: anna.email, pwd: GOOD_PASSWORD })).status).toBe(429);
    });
  });

  describe('rule 8: no oracle in reset-by-code', () => {
    it.each([
      ['/v1', (email: string, password: string) => t.http.post('/v1/auth/password/reset', { email, code: '123456', password })],
      ['000', (email: string, password: string) => t.http.post('/api/users/resetPassword', { email, code: '123456', password })],
    ])("%s: a password equal to the account's own e-mail reads the same for known and unknown accounts", async (_surface, reset) => {
      const anna = await owner();
      const nobody = `${unique('nobody')}@example.com`;
      const known = await reset(anna.email, anna.email);
      const unknown = await reset(nobody, nobody);
      expect(known.status).toBe(400);
      expect(unknown.status).toBe(known.status);
      expect(JSON.stringify(unknown.body).replace(/"instance":"[^"]*"/, '')).toBe(JSON.stringify(known.body).replace(/"instance":"[^"]*"/, ''));
    });

    it('004: a password equal to the phone reads the same for known and unknown numbers', async () => {
      const anna = await owner();
      const nobody = uniquePhone();
      const known = await t.http.patch('/me/password', { phone: anna.phone, code: '123456', password: anna.phone });
      const unknown = await t.http.patch('/me/password', { phone: nobody, code: '123456', password: nobody });
      expect(known.status).toBe(400);
      expect(unknown).toMatchObject({ status: known.status, body: known.body });
    });

    it('a proven code with a password equal to the e-mail is refused as weak, and the code stays usable', async () => {
      const anna = await owner();
      const before = new Set(t.mail.messages);
      await t.http.post('/v1/auth/password/forgot', { email: anna.email });
      const code = codeIn((await nextMail(anna.email, 'Reset your password', before)).text);
      expectProblem(await t.http.post('/v1/auth/password/reset', { email: anna.email, code, password: anna.email }), 400, 'WeakPassword');
      expect((await t.http.post('/v1/auth/password/reset', { email: anna.email, code, password: NEW_PASSWORD })).status).toBe(204);
    });
  });
});
