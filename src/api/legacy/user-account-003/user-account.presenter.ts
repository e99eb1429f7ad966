import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SessionOutcome } from '../../../auth/auth.service';
import { maskEmail } from '../../../common/identifiers';
import { Locale } from '../../../common/locale';
import { displayFullName, User } from '../../../users/user.entity';
import { Registration } from '../../../users/users.service';
import {
  UserAccountLoggedInDto,
  UserAccountMessageDto,
  UserAccountProfileSettingsDto,
  UserAccountRegistrationDto,
  UserAccountServiceInfoDto,
} from './user-account.dto';

export const SERVICE_NAME = 'identity-service';

/**
 * The service's version from package.json, read once when the app loads: the nearest package.json
 * above this file (the repository root from `src/…`, the app folder from `dist/…`).
 */
function packageVersion(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) return String(JSON.parse(readFileSync(file, 'utf8')).version);
    if (dirname(dir) === dir) return 'unknown';
  }
}

const SERVICE_INFO: UserAccountServiceInfoDto = { status: 'OK', msg: SERVICE_NAME, data: { name: SERVICE_NAME, version: packageVersion() } };

const ok = (msg: string): UserAccountMessageDto => ({ status: 'OK', msg });

/** The documented success messages. */
export const CHECK_EMAIL = ok('Check your email...');
export const EMAIL_CONFIRMED = ok('Your email has been confirmed.');
export const PASSWORD_RESET = ok('Your password has been reset.');
/** The document shows `"status": "1234"`; SPEC §7 makes it "OK". */
export const LOGGED_OUT = ok('user logout');

/** The documented `msg` for a bad, used or expired token, per route (one has a full stop, one has not). */
export const CONFIRM_TOKEN_INVALID = 'user not found.';
export const RESET_TOKEN_INVALID = 'user not found';
export const USERNAME_NOT_ALLOWED = 'username is not allowed.';

/** The mask the document shows for `pwd`: the password itself is never returned (SPEC §4). */
const PASSWORD_MASK = '********';

export function presentServiceInfo(): UserAccountServiceInfoDto {
  return SERVICE_INFO;
}

export function presentLogin({ access }: SessionOutcome): UserAccountLoggedInDto {
  return { data: { token: access.token }, msg: 'success', status: 'OK' };
}

/** The documented profile, key by key: the e-mail masked, `pwd` the mask. */
export function presentProfileSettings(user: User): UserAccountProfileSettingsDto {
  return {
    data: {
      contacts: user.contacts,
      email: user.email ? maskEmail(user.email) : null,
      full_name: displayFullName(user),
      is_email_verified: user.emailVerifiedAt !== null,
      phone: user.phone,
      pwd: PASSWORD_MASK,
      username: user.username,
    },
    msg: 'success',
    status: 'OK',
  };
}

/** The documented registration form → a domain registration; the request's language becomes the user's. */
export function registrationOf(body: UserAccountRegistrationDto, locale: Locale | undefined): Registration {
  return {
    username: body.username,
    fullName: body.full_name || null,
    email: body.email,
    phone: body.phone ?? null,
    contacts: body.contacts || null,
    password: body.pwd,
    locale: locale ?? null,
  };
}
