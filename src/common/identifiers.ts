import { CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js';

/** How a phone may be typed: digits, optionally a leading `+`, spaces, brackets, dashes and dots. */
const PHONE_TEXT = /^[+\d][\d\s()\-.]{3,30}$/;

/** E.164 for a phone typed in any common way; numbers without `+` are read in `region`. Null when not a valid number. */
export function toE164(raw: string | number, region: CountryCode): string | null {
  const text = String(raw).trim();
  if (!PHONE_TEXT.test(text)) return null;
  const digits = text.replace(/\D/g, '');
  // Russian habit: 8XXXXXXXXXX is the trunk-prefixed form of +7XXXXXXXXXX.
  const candidate = !text.startsWith('+') && region === 'RU' && digits.length === 11 && digits.startsWith('8') ? `+7${digits.slice(1)}` : text;
  const phone = parsePhoneNumberFromString(candidate, region);
  return phone?.isValid() ? phone.number : null;
}

export function normalizeEmail(raw: string): string {
  return raw.trim().toLowerCase();
}

/** Letters, digits, `_`, `.`, `-`; starts with a letter so it can never be read as a phone number. */
export const USERNAME_PATTERN = /^[\p{L}][\p{L}\p{N}_.-]{1,63}$/u;

/** Accepts the empty string, or ^…$ of `pattern`. */
const orEmpty = (pattern: RegExp) => `^(?:${pattern.source.slice(1, -1)})?$`;

/**
 * For the API document (`@CheckedByService`): the form a username and a phone must have, as the
 * user service checks them ("" means none). Phones must also be real numbers (libphonenumber), and
 * a few usernames are reserved: the schema cannot say that, the description does.
 */
export const USERNAME_RULE = { pattern: orEmpty(USERNAME_PATTERN) };
export const PHONE_RULE = { pattern: orEmpty(PHONE_TEXT) };

/** Names that would let someone impersonate the service. */
const RESERVED_USERNAMES = new Set([
  'root',
  'system',
  'sysadmin',
  'support',
  'security',
  'postmaster',
  'hostmaster',
  'webmaster',
  'abuse',
  'noreply',
  'no-reply',
  'mailer-daemon',
  'null',
  'undefined',
  'anonymous',
  'me',
  'api',
  'staff',
  'moderator',
]);

export function usernameProblem(username: string): string | null {
  if (!USERNAME_PATTERN.test(username)) {
    return 'username must be 2–64 letters, digits, "_", "." or "-", starting with a letter';
  }
  if (RESERVED_USERNAMES.has(username.toLowerCase())) return 'username is reserved';
  return null;
}

export type LoginIdentifier = { kind: 'email' | 'phone' | 'username'; value: string };

/** Reads one "e-mail, username or phone" field the way every sign-in form means it. */
export function classifyIdentifier(raw: string, region: CountryCode): LoginIdentifier {
  const text = raw.trim();
  if (text.includes('@')) return { kind: 'email', value: normalizeEmail(text) };
  if (/^[+\d]/.test(text)) {
    const phone = toE164(text, region);
    if (phone) return { kind: 'phone', value: phone };
  }
  return { kind: 'username', value: text };
}

/** `anna.petrova@example.com` → `a*a@example.com`: enough to recognise, not to harvest (also 003's documented mask). */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  const local = email.slice(0, at);
  return `${local[0] ?? ''}*${local.length > 1 ? local[local.length - 1] : ''}${email.slice(at)}`;
}

/** `+79991234567` → `+7*******67`. */
export function maskPhone(phone: string): string {
  return phone.length <= 5 ? '*'.repeat(phone.length) : `${phone.slice(0, 2)}${'*'.repeat(phone.length - 4)}${phone.slice(-2)}`;
}

/** A UUID in its canonical form, either case (what our ids always are): the source of a regular expression, also for router constraints. */
export const UUID_PATTERN = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const UUID = new RegExp(`^${UUID_PATTERN}$`);

/** A value PostgreSQL accepts as a `uuid` in its canonical form (what our ids always are). */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}
