import { LOCALES } from '../common/locale';
import { renderTemplate, TemplateName } from './templates';

const EMAIL: TemplateName[] = ['email-verify', 'password-reset', 'password-change', 'password-changed', 'password-reset-done'];
const EMAIL_WITH_CODE: TemplateName[] = ['email-verify', 'password-reset', 'password-change'];

describe('renderTemplate', () => {
  describe.each(LOCALES)('%s e-mail', (locale) => {
    it.each(EMAIL)('%s has a subject, a text and an HTML body', (name) => {
      const message = renderTemplate(name, locale, 'email');
      expect(message.subject.length).toBeGreaterThan(5);
      expect(message.text.trim().length).toBeGreaterThan(10);
      expect(message.html).toContain(`<html lang="${locale}">`);
    });

    it.each(EMAIL_WITH_CODE)('%s carries the code when given, and no number when not', (name) => {
      const withCode = renderTemplate(name, locale, 'email', { code: '042917', codeMinutes: 10 });
      expect(withCode.text).toContain('042917');
      expect(withCode.html).toContain('042917');
      expect(renderTemplate(name, locale, 'email', { link: 'https://x.test/a' }).text).not.toMatch(/\d{6}/);
    });

    it.each(['email-verify', 'password-reset'] as TemplateName[])('%s carries the link when given', (name) => {
      const message = renderTemplate(name, locale, 'email', { link: 'https://id.test/confirm?token=abc', linkMinutes: 60 });
      expect(message.text).toContain('https://id.test/confirm?token=abc');
      expect(message.html).toContain('href="https://id.test/confirm?token=abc"');
      expect(renderTemplate(name, locale, 'email', { code: '111111' }).text).not.toContain('http');
    });
  });

  it('escapes the link in HTML', () => {
    const html = renderTemplate('password-reset', 'en', 'email', { link: 'https://id.test/r?a=1&b=<x>"' }).html!;
    expect(html).toContain('https://id.test/r?a=1&amp;b=&lt;x&gt;&quot;');
    expect(html).not.toContain('<x>');
  });

  it.each([
    [1, '1 минуту'],
    [2, '2 минуты'],
    [5, '5 минут'],
    [11, '11 минут'],
    [21, '21 минуту'],
    [60, '1 час'],
    [1440, '24 часа'],
  ])('Russian: %i minutes read "%s"', (minutes, words) => {
    expect(renderTemplate('email-verify', 'ru', 'email', { code: '123456', codeMinutes: minutes }).text).toContain(`действует ${words})`);
  });

  it.each([
    [1, '1 minute'],
    [10, '10 minutes'],
    [60, '1 hour'],
    [1440, '24 hours'],
  ])('English: %i minutes read "%s"', (minutes, words) => {
    expect(renderTemplate('email-verify', 'en', 'email', { code: '123456', codeMinutes: minutes }).text).toContain(`valid for ${words})`);
  });

  describe('SMS', () => {
    it.each(
      LOCALES.flatMap(
        (locale) =>
          [
            ['phone-verify', locale],
            ['password-reset', locale],
          ] as [TemplateName, 'en' | 'ru'][],
      ),
    )('%s (%s) is one line with the code and no HTML', (name, locale) => {
      const message = renderTemplate(name, locale, 'sms', { code: '654321' });
      expect(message.text).toContain('654321');
      expect(message.text).not.toContain('\n');
      expect(message.html).toBeUndefined();
    });

    it('refuses phone-verify as an e-mail: it is an SMS only', () => {
      expect(() => renderTemplate('phone-verify', 'en', 'email', { code: '123456' })).toThrow(/no e-mail form/);
    });

    it('refuses templates without an SMS form, and a code message without its code', () => {
      expect(() => renderTemplate('password-change', 'en', 'sms', { code: '123456' })).toThrow(/no SMS form/);
      expect(() => renderTemplate('phone-verify', 'en', 'sms')).toThrow(/no SMS form/);
    });

    it('security notices have a short SMS form without a code (SPEC §9 rule 3: e-mail, else SMS)', () => {
      for (const notice of [
        'password-changed',
        'password-reset-done',
        'email-changed',
        'phone-changed',
        'second-factor-added',
        'second-factor-removed',
        'recovery-code-used',
        'recovery-codes-renewed',
        'second-factors-reset',
      ] as const) {
        // Coalescing keys a notice as `notice:<name>` in send_cooldowns.purpose, a varchar(32).
        expect(`notice:${notice}`.length).toBeLessThanOrEqual(32);
        for (const locale of ['en', 'ru'] as const) {
          const sms = renderTemplate(notice, locale, 'sms');
          expect(sms.text.length).toBeGreaterThan(20);
          expect(sms.html).toBeUndefined();
        }
      }
    });
  });

  describe('security notices', () => {
    it('the e-mail-changed notice carries its "this wasn\'t me" link and how long it lives', () => {
      const link = 'https://id.example.test/v1/auth/email/revert?token=abc';
      const message = renderTemplate('email-changed', 'en', 'email', { link, linkMinutes: 7 * 24 * 60 });
      expect(message.text).toContain(link);
      expect(message.text).toContain('valid for 168 hours');
      expect(message.html).toContain(`href="${link}"`);
    });

    it('second-factor notices name the factor (a passkey by its name, escaped in HTML) and say when it was the last', () => {
      const added = renderTemplate('second-factor-added', 'en', 'email', { factor: { kind: 'webauthn', name: 'Work <laptop>' } });
      expect(added.text).toContain('Added: the passkey "Work <laptop>".');
      expect(added.html).toContain('Work &lt;laptop&gt;');
      expect(added.html).not.toContain('<laptop>');
      expect(renderTemplate('second-factor-added', 'ru', 'email', { factor: { kind: 'totp' } }).text).toContain('приложение-аутентификатор');
      expect(renderTemplate('second-factor-removed', 'en', 'email', { factor: { kind: 'totp' }, lastFactor: true }).text).toContain(
        'no longer asks for a second factor',
      );
      expect(renderTemplate('second-factor-removed', 'en', 'email', { factor: { kind: 'totp' } }).text).not.toContain('no longer asks');
    });

    it('the recovery-code notice says how many codes are left', () => {
      expect(renderTemplate('recovery-code-used', 'en', 'email', { remaining: 9 }).text).toContain('Recovery codes left: 9.');
      expect(renderTemplate('recovery-code-used', 'ru', 'email', { remaining: 0 }).text).toContain('Осталось резервных кодов: 0.');
    });

    it('the reset notice names the contacts it detached', () => {
      const message = renderTemplate('password-reset-done', 'ru', 'email', { detached: ['+79990001122'] });
      expect(message.text).toContain('+79990001122');
      expect(renderTemplate('password-reset-done', 'en', 'email').text).not.toContain('removed from the account');
    });
  });
});
