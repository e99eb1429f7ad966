import { classifyIdentifier, normalizeEmail, toE164, usernameProblem } from './identifiers';

describe('toE164', () => {
  it.each([
    ['the Russian trunk-prefixed form', '89991234567'],
    ['international form with spaces and dashes', '+7 999 123-45-67'],
    ['the national number without a prefix', '9991234567'],
    ['the trunk-prefixed form with brackets', '8 (999) 123-45-67'],
    ['digits with country code but no plus', '79991234567'],
    ['surrounding whitespace', '  +79991234567  '],
  ])('reads %s in region RU', (_label, raw) => {
    expect(toE164(raw, 'RU')).toBe('+79991234567');
  });

  it('accepts a number typed as a JSON number', () => {
    expect(toE164(89991234567, 'RU')).toBe('+79991234567');
  });

  it('reads numbers with "+" regardless of the region', () => {
    expect(toE164('+1 650 253 0000', 'RU')).toBe('+16502530000');
  });

  it('reads numbers without "+" in the given region', () => {
    expect(toE164('6502530000', 'US')).toBe('+16502530000');
  });

  it('applies the 8 → +7 trunk rule only in region RU', () => {
    expect(toE164('89991234567', 'US')).toBeNull();
  });

  it.each([
    ['letters', 'not a phone'],
    ['too few digits', '123'],
    ['an incomplete number', '+7 999 123'],
    ['an empty string', ''],
    ['digits with letters mixed in', '8999123456a'],
    ['an over-long digit string', '8'.repeat(40)],
  ])('returns null for %s', (_label, raw) => {
    expect(toE164(raw, 'RU')).toBeNull();
  });
});

describe('normalizeEmail', () => {
  it('trims and lower-cases', () => {
    expect(normalizeEmail('  Alice@Example.COM ')).toBe('alice@example.com');
  });
});

describe('classifyIdentifier', () => {
  it('reads anything with "@" as a lower-cased e-mail', () => {
    expect(classifyIdentifier(' Alice.Smith@Example.COM ', 'RU')).toEqual({ kind: 'email', value: 'alice.smith@example.com' });
  });

  it.each(['89991234567', '+7 999 123-45-67', '9991234567'])('reads "%s" as a phone in E.164', (raw) => {
    expect(classifyIdentifier(raw, 'RU')).toEqual({ kind: 'phone', value: '+79991234567' });
  });

  it('reads a name as a username, trimmed but with its case kept', () => {
    expect(classifyIdentifier('  Alice_99 ', 'RU')).toEqual({ kind: 'username', value: 'Alice_99' });
  });

  it('falls back to username when something starting with a digit is not a valid phone', () => {
    expect(classifyIdentifier('123', 'RU')).toEqual({ kind: 'username', value: '123' });
  });
});

describe('usernameProblem', () => {
  it.each(['alice', 'Alice_Smith', 'a.b-c_9', 'Иван', 'ab', 'a'.repeat(64)])('accepts "%s"', (username) => {
    expect(usernameProblem(username)).toBeNull();
  });

  it.each(['root', 'support', 'no-reply', 'me', 'mailer-daemon'])('rejects the reserved name "%s"', (username) => {
    expect(usernameProblem(username)).toBe('username is reserved');
  });

  it('rejects reserved names case-insensitively', () => {
    expect(usernameProblem('Root')).toBe('username is reserved');
    expect(usernameProblem('POSTMASTER')).toBe('username is reserved');
  });

  it.each([
    ['starts with a digit', '1alice'],
    ['starts with an underscore', '_alice'],
    ['starts with a plus (reads as a phone)', '+alice'],
    ['is a phone number', '89991234567'],
  ])('rejects a username that %s', (_label, username) => {
    expect(usernameProblem(username)).toMatch(/starting with a letter/);
  });

  it.each([
    ['a single character', 'a'],
    ['more than 64 characters', 'a'.repeat(65)],
    ['a space', 'al ice'],
    ['an "@"', 'alice@home'],
    ['an empty string', ''],
  ])('rejects %s', (_label, username) => {
    expect(usernameProblem(username)).toMatch(/2–64 letters/);
  });
});
