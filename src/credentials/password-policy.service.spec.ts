import { DomainError } from '../common/domain-error';
import { PASSWORD_MAX_LENGTH, PasswordPolicy } from './password-policy.service';

describe('PasswordPolicy', () => {
  const policy: PasswordPolicy = new PasswordPolicy({ passwordMinLength: 8 });
  const goodPassphrase = 'correct horse battery staple';

  /** Runs the check and returns the DomainError it threw (fails the test when it threw nothing else). */
  function rejection(password: unknown, identity?: Parameters<PasswordPolicy['check']>[1]): DomainError {
    try {
      policy.check(password, identity);
    } catch (error) {
      expect(error).toBeInstanceOf(DomainError);
      return error as DomainError;
    }
    throw new Error(`expected ${JSON.stringify(password)} to be rejected`);
  }

  it('accepts a good passphrase', () => {
    expect(() => policy.check(goodPassphrase, { email: 'alice@example.com', username: 'alice', phone: '+79991234567' })).not.toThrow();
  });

  it.each([
    ['undefined', undefined],
    ['a number', 12345678],
    ['an empty string', ''],
  ])('rejects %s as WeakPassword', (_label, password) => {
    expect(rejection(password).kind).toBe('WeakPassword');
  });

  describe('length', () => {
    it('rejects a password one character shorter than the configured minimum', () => {
      const error = rejection('kx7#mq2');
      expect(error.kind).toBe('WeakPassword');
      expect(error.message).toContain('at least 8');
    });

    it('accepts a password exactly at the configured minimum', () => {
      expect(() => policy.check('kx7#mq2z')).not.toThrow();
    });

    it('takes the minimum from the configuration', () => {
      const strict = new PasswordPolicy({ passwordMinLength: 12 });
      expect(() => strict.check('kx7#mq2zv9w')).toThrow(DomainError);
      expect(() => strict.check('kx7#mq2zv9wp')).not.toThrow();
    });

    it('counts characters, not UTF-16 code units, for the minimum', () => {
      // Seven emoji are fourteen UTF-16 units but only seven characters.
      expect(rejection('🦊🐙🦉🐝🦔🐢🦜').kind).toBe('WeakPassword');
    });

    it(`accepts a password of exactly ${PASSWORD_MAX_LENGTH} characters`, () => {
      expect(() => policy.check('q'.repeat(PASSWORD_MAX_LENGTH - 4) + '7#zX')).not.toThrow();
    });

    it(`rejects a password longer than ${PASSWORD_MAX_LENGTH} characters`, () => {
      const error = rejection('q'.repeat(PASSWORD_MAX_LENGTH - 3) + '7#zX');
      expect(error.kind).toBe('WeakPassword');
      expect(error.message).toContain(`at most ${PASSWORD_MAX_LENGTH}`);
    });
  });

  describe('common passwords', () => {
    it.each(['password1', 'iloveyou', 'qwertyuiop', '1qaz2wsx'])('rejects "%s" from the list', (password) => {
      const error = rejection(password);
      expect(error.kind).toBe('WeakPassword');
      expect(error.message).toContain('too common');
    });

    it.each(['Qwertyuiop', 'PASSWORD1', 'ILoveYou'])('compares case-insensitively ("%s")', (password) => {
      expect(rejection(password).kind).toBe('WeakPassword');
    });

    it('does not treat the comment line at the top of the list as a password', () => {
      expect(() => policy.check('# The 10,000 most common passwords, most common first: the first entries of the passwords-common list')).not.toThrow();
    });
  });

  describe('passwords equal to an identifier of the account', () => {
    const identity = { email: 'Nikolai.Petrov@example.com', username: 'wonderland42', phone: '+79991234567' };

    it.each([
      ['the e-mail', 'nikolai.petrov@example.com'],
      ['the e-mail, differently cased', 'NIKOLAI.PETROV@EXAMPLE.COM'],
      ['the local part of the e-mail', 'nikolai.petrov'],
      ['the username', 'wonderland42'],
      ['the username, differently cased', 'WonderLand42'],
      ['the phone', '+79991234567'],
    ])('rejects %s', (_label, password) => {
      const error = rejection(password, identity);
      expect(error.kind).toBe('WeakPassword');
      expect(error.message).toContain('must not be the same');
    });

    it('accepts a password that merely contains the username', () => {
      expect(() => policy.check('wonderland42 is my favourite book', identity)).not.toThrow();
    });

    it('ignores identifiers the account does not have', () => {
      expect(() => policy.check('nikolai.petrov', { email: null, username: undefined, phone: null })).not.toThrow();
    });
  });
});

describe('PasswordPolicy counts characters, not UTF-16 units', () => {
  const policy: PasswordPolicy = new PasswordPolicy({ passwordMinLength: 8 });

  it('accepts 128 emoji (256 UTF-16 units)', () => {
    expect(() => policy.check('😀'.repeat(128))).not.toThrow();
  });

  it('refuses 129 emoji', () => {
    expect(() => policy.check('😀'.repeat(129))).toThrow(DomainError);
  });
});
