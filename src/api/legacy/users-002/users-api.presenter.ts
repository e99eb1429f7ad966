import { SessionTokens } from '../../../auth/sessions.service';
import { APP_PASSWORD_HINT, DomainError, FieldError } from '../../../common/domain-error';
import { User } from '../../../users/user.entity';
import { ProfileChanges } from '../../../users/users.service';
import { UsersApiDetailDto, DRF, UsersApiRegisteredUserDto, UsersApiTokenPairDto, UsersApiUserDto } from './users-api.dto';

/** The one-line answers (the document shows no body for the first two: see docs/legacy/002-users-api.md). */
export const DELETED: UsersApiDetailDto = { detail: 'Successfully deleted' };
export const CODE_SENT: UsersApiDetailDto = { detail: 'Code sent' };
export const CONFIRMED: UsersApiDetailDto = { detail: 'Successfully confirmed' };

/** The registration answer: the documented fields, never the password. */
export function presentRegistered(user: User): UsersApiRegisteredUserDto {
  return {
    surname: user.surname,
    name: user.name,
    patronymic: user.patronymic,
    address: user.address,
    email: user.email,
    number: user.phone,
  };
}

/** The documented user object, key by key (id is our uuid). */
export function presentUser(user: User): UsersApiUserDto {
  return {
    id: user.id,
    ...presentRegistered(user),
    confirmed_email: user.emailVerifiedAt !== null,
    confirmed_number: user.phoneVerifiedAt !== null,
    created_at: user.createdAt.toISOString(),
    updated_at: user.updatedAt.toISOString(),
  };
}

export function presentTokens({ access, refreshToken }: Pick<SessionTokens, 'access' | 'refreshToken'>): UsersApiTokenPairDto {
  return { refresh: refreshToken, access: access.token, expired_at: access.expiresIn };
}

/** The input fields of `PATCH user/`, in the order they are applied, with their capitalised answer keys. */
export const UPDATE_FIELDS = [
  { input: 'surname', key: 'Surname' },
  { input: 'name', key: 'Name' },
  { input: 'patronymic', key: 'Patronymic' },
  { input: 'address', key: 'Address' },
  { input: 'email', key: 'Email' },
  { input: 'number', key: 'Number' },
  { input: 'password', key: 'Password' },
] as const;

export type UpdateField = (typeof UPDATE_FIELDS)[number]['input'];

/** One profile field of `PATCH user/` as a domain change (`number` is the phone). */
export function profileChange(field: Exclude<UpdateField, 'password'>, value: string | null): ProfileChanges {
  return field === 'number' ? { phone: value } : { [field]: value };
}

export const changedMessage = (key: string) => `${key} successfully changed`;

/** Domain errors that are about one input field of this surface, in DRF's words where DRF has them. */
export function fieldErrorOf(error: DomainError): FieldError | null {
  switch (error.kind) {
    case 'EmailTaken':
      return { field: 'email', message: 'user with this email already exists.' };
    case 'PhoneTaken':
      return { field: 'number', message: 'user with this number already exists.' };
    case 'InvalidPhone':
      return { field: 'number', message: 'Enter a valid phone number.' };
    case 'WeakPassword':
      return { field: 'password', message: error.message };
    case 'IdentifierRequired':
      return { field: 'non_field_errors', message: 'Either email or number is required.' };
    default:
      return null;
  }
}

/** The `detail` line of a non-field error, in DRF / simple-jwt wording where the product's clients know one. */
export function detailOf(error: DomainError): string {
  const seconds = Math.max(1, Math.ceil(error.details.retryAfterSeconds ?? 60));
  switch (error.kind) {
    case 'MalformedBody':
      return `JSON parse error - ${error.message}`;
    case 'Unauthenticated':
      return 'Authentication credentials were not provided.';
    case 'InvalidToken':
    case 'SessionRevoked':
      return 'Given token not valid for any token type';
    case 'InvalidRefreshToken':
      return 'Token is invalid or expired';
    case 'InvalidCredentials':
      return 'No active account found with the given credentials';
    case 'AppPasswordRequired':
      return `No active account found with the given credentials. ${APP_PASSWORD_HINT}`;
    case 'AccountBlocked':
      return 'User account is disabled.';
    case 'Forbidden':
      return 'You do not have permission to perform this action.';
    case 'NotFound':
    case 'UserNotFound':
      return 'Not found.';
    case 'AccountLocked':
      return `Too many failed sign-in attempts. Expected available in ${seconds} seconds.`;
    case 'RateLimited':
    case 'ResendTooSoon':
      return `Request was throttled. Expected available in ${seconds} seconds.`;
    case 'InvalidCode':
      return 'Invalid or expired code.';
    case 'AlreadyVerified':
      return 'Email is already confirmed.';
    case 'ContactMissing':
      return 'This account has no email address.';
    case 'ServiceUnavailable':
      return 'Service temporarily unavailable, try again later.';
    default:
      return error.message;
  }
}

/** Domain field names → this surface's input names. */
const SURFACE_FIELD: Record<string, string> = { phone: 'number' };

/** Messages that say the value is absent or of the wrong type: DRF stops there and says only that. */
const FIRST_FAILURES: string[] = [DRF.required, DRF.notNull, DRF.string, DRF.integer];

/**
 * Validation failures as DRF's `{"field": ["message", …]}`. Like DRF, a missing, null or wrongly
 * typed field says only that (not also "Ensure this field has no more than 100 characters.").
 */
export function fieldErrorsBody(fields: FieldError[]): Record<string, string[]> {
  const grouped: Record<string, string[]> = {};
  for (const { field, message } of fields) {
    const name = SURFACE_FIELD[field] ?? field;
    const messages = (grouped[name] ??= []);
    if (!messages.includes(message)) messages.push(message);
  }
  for (const [name, messages] of Object.entries(grouped)) {
    const first = FIRST_FAILURES.find((message) => messages.includes(message));
    if (first) grouped[name] = [first];
  }
  return grouped;
}

export function isDictionary(body: unknown): boolean {
  return body !== null && typeof body === 'object' && !Array.isArray(body);
}

/** DRF's answer to a body that is JSON but not an object. */
export function notADictionary(body: unknown): string {
  const got = Array.isArray(body) ? 'list' : body === null ? 'None' : typeof body === 'string' ? 'str' : typeof body === 'number' ? 'int' : 'bool';
  return `Invalid data. Expected a dictionary, but got ${got}.`;
}

/** The one reason a field of `PATCH user/` was not applied. */
export function reasonOf(error: DomainError): string {
  if (error.kind === 'ValidationFailed') return Object.values(fieldErrorsBody(error.details.fields ?? []))[0]?.[0] ?? error.message;
  return fieldErrorOf(error)?.message ?? detailOf(error);
}
