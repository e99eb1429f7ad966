import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsInt, IsNotEmpty, IsString, Max, MaxLength, Min, ValidateBy, ValidateIf, ValidationOptions } from 'class-validator';
import { documentTransforms, lowerTrim, numberToText, orAlso, SAME_INPUT, wasSent } from '../../../common/dto-transforms';
import { AnyOfRequired, CheckedByService } from '../../../common/openapi.decorators';
import { PHONE_RULE } from '../../../common/identifiers';
import { NEW_PASSWORD_RULE } from '../../../credentials/password-policy.service';

/**
 * Validation messages in Django REST Framework's own words, so the product's clients show what
 * they always showed (`{"email": ["Enter a valid email address."]}`).
 */
export const DRF = {
  required: 'This field is required.',
  notNull: 'This field may not be null.',
  blank: 'This field may not be blank.',
  string: 'Not a valid string.',
  email: 'Enter a valid email address.',
  integer: 'A valid integer is required.',
  maxLength: (max: number) => `Ensure this field has no more than ${max} characters.`,
  minValue: (min: number) => `Ensure this value is greater than or equal to ${min}.`,
  maxValue: (max: number) => `Ensure this value is less than or equal to ${max}.`,
} as const;

const sentAndNotNull = (_: unknown, value: unknown) => value !== undefined && value !== null;

/** Present and not null; says which of the two DRF messages applies. */
function Required(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'drfRequired',
      validator: {
        validate: (value) => value !== undefined && value !== null,
        defaultMessage: (args) => (args?.value === null ? DRF.notNull : DRF.required),
      },
    },
    options,
  );
}

/** A DRF CharField: a string of at most `max` characters (blank allowed unless `notBlank`). */
function Text(max: number, notBlank = false): PropertyDecorator {
  return (target, key) => {
    IsString({ message: DRF.string })(target, key as string);
    MaxLength(max, { message: DRF.maxLength(max) })(target, key as string);
    if (notBlank) IsNotEmpty({ message: DRF.blank })(target, key as string);
  };
}

/** A DRF EmailField. */
function Email(): PropertyDecorator {
  return (target, key) => {
    Transform(lowerTrim)(target, key as string);
    IsEmail({}, { message: DRF.email })(target, key as string);
    MaxLength(254, { message: DRF.maxLength(254) })(target, key as string);
  };
}

/** The phone (`number`): a string or a JSON number, read as text; stored and answered in E.164. */
function PhoneNumber(): PropertyDecorator {
  return (target, key) => {
    Transform(numberToText)(target, key as string);
    Text(32, true)(target, key);
  };
}

// ---------------------------------------------------------------------------------------------
// Requests

/** `POST /users/auth/registration/`. An e-mail or a number (or both) is required. */
@AnyOfRequired(['email'], ['number'])
export class UsersApiRegistrationDto {
  @ApiPropertyOptional({ example: 'user1' }) @ValidateIf(sentAndNotNull) @Text(100) surname?: string | null;
  @ApiPropertyOptional({ example: 'user1@gmail.com' }) @ValidateIf(sentAndNotNull) @Text(100) name?: string | null;
  @ApiPropertyOptional({ example: 'user1' }) @ValidateIf(sentAndNotNull) @Text(100) patronymic?: string | null;
  @ApiPropertyOptional({ example: 'user1address' }) @ValidateIf(sentAndNotNull) @Text(500) address?: string | null;
  @ApiPropertyOptional({ example: 'user1@gmail.com', description: 'Required unless `number` is given; stored lower-cased.' })
  @ValidateIf(sentAndNotNull)
  @Email()
  email?: string;
  @ApiPropertyOptional({
    example: '+79967348137',
    description: 'The phone; required unless `email` is given. Any common form (a JSON number too); stored in E.164.',
  })
  @ValidateIf(sentAndNotNull)
  @PhoneNumber()
  @CheckedByService(PHONE_RULE)
  number?: string;
  @ApiProperty({
    example: 'user1user1Strong',
    description: 'Checked by the password policy (at least 8 characters, not a common password, not the e-mail or number).',
  })
  @Required()
  @Text(1024)
  @CheckedByService(NEW_PASSWORD_RULE)
  password: string;
}

/** `POST /users/auth/token/`: `{email, password}` or `{number, password}` (the e-mail wins when both are sent). */
@AnyOfRequired(['email'], ['number'])
export class UsersApiTokenRequestDto {
  @ApiPropertyOptional({ example: 'user1@gmail.com', description: 'Sign in by e-mail…' })
  @ValidateIf(wasSent)
  @Transform(lowerTrim)
  @Required()
  @Text(254, true)
  email?: string;
  @ApiPropertyOptional({ example: '+79967348137', description: '…or by phone number, in any common form.' })
  @ValidateIf(wasSent)
  @Required()
  @PhoneNumber()
  number?: string;
  @ApiProperty({ example: 'user1user1Strong' }) @Required() @Text(1024, true) password: string;
}

/** `POST /users/auth/token/refresh`. */
export class UsersApiRefreshDto {
  @ApiProperty({ example: 'Jt3x8bD0m1Ugq5Yc2s9QfLkPz7RwVaE4hNiK6oTjXy0', description: 'The refresh token of the last pair (single use: it rotates).' })
  @Required()
  @Text(1024, true)
  refresh: string;
}

/**
 * `PATCH /users/user/`: every field optional. Each one is checked and applied on its own (a field that
 * fails is reported under `error` and the others still apply), so this class is applied per field by
 * the controller rather than by the global validation pipe.
 */
export class UsersApiUpdateUserDto {
  @ApiPropertyOptional({ example: 'user1', description: 'null clears it.' }) @ValidateIf(sentAndNotNull) @Text(100) surname?: string | null;
  @ApiPropertyOptional({ example: 'user1Changed@gmail.com', description: 'null clears it.' }) @ValidateIf(sentAndNotNull) @Text(100) name?: string | null;
  @ApiPropertyOptional({ example: 'user1Changed', description: 'null clears it.' }) @ValidateIf(sentAndNotNull) @Text(100) patronymic?: string | null;
  @ApiPropertyOptional({ example: 'user1Changedaddress', description: 'null clears it.' }) @ValidateIf(sentAndNotNull) @Text(500) address?: string | null;
  @ApiPropertyOptional({ example: 'user1changed@gmail.com', description: 'Clears `confirmed_email` when it changes.' })
  @ValidateIf(wasSent)
  @Required()
  @Email()
  email?: string;
  @ApiPropertyOptional({ example: '+79967348130', description: 'Clears `confirmed_number` when it changes; stored in E.164.' })
  @ValidateIf(wasSent)
  @Required()
  @PhoneNumber()
  @CheckedByService(PHONE_RULE)
  number?: string;
  @ApiPropertyOptional({ example: 'user1user1Changed', description: 'No old password needed; every other session of the user ends.' })
  @ValidateIf(wasSent)
  @Required()
  @Text(1024, true)
  @CheckedByService(NEW_PASSWORD_RULE)
  password?: string;
}

/** The deepest `offset` of `GET user/executor/` (a larger one would only make the database skip rows). */
export const MAX_OFFSET = 1_000_000;

/** `GET /users/user/executor/?limit=&offset=` */
export class UsersApiExecutorsQueryDto {
  @ApiPropertyOptional({ default: 100, example: 20, description: 'Page size; above 100 counts as 100.' })
  @ValidateIf(wasSent)
  @Transform(asInteger)
  @IsInt({ message: DRF.integer })
  @Min(1, { message: DRF.minValue(1) })
  limit?: number;
  @ApiPropertyOptional({ default: 0, example: 0, description: 'How many executors to skip.' })
  @ValidateIf(wasSent)
  @Transform(asInteger)
  @IsInt({ message: DRF.integer })
  @Min(0, { message: DRF.minValue(0) })
  @Max(MAX_OFFSET, { message: DRF.maxValue(MAX_OFFSET) })
  offset?: number;
}

/** `POST /users/accept-email/`. */
export class UsersApiAcceptEmailDto {
  @ApiProperty({
    example: 123456,
    description: 'The 6-digit code from the e-mail, as a JSON number or string. A number is left-padded to 6 digits (`1234` → `"001234"`).',
  })
  @Transform(codeToText)
  @Required()
  @Text(16, true)
  code: string;
}

/** Query strings are text: "20" → 20, "-1" → -1; anything else stays as it is and fails `IsInt`. */
function asInteger({ value }: { value: unknown }): unknown {
  return typeof value === 'string' && /^-?\d{1,9}$/.test(value.trim()) ? Number(value.trim()) : value;
}

/**
 * A JSON number loses its leading zeros (`000123` → 123): give them back; strings are only trimmed.
 * Numbers outside 0–999999 stay numbers and fail as "Not a valid string." (not a wrong try).
 */
export function codeToText({ value }: { value: unknown }): unknown {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 999_999) return String(value).padStart(6, '0');
  return typeof value === 'string' ? value.trim() : value;
}

documentTransforms([asInteger, SAME_INPUT], [codeToText, orAlso({ type: 'integer', minimum: 0, maximum: 999_999 })]);

// ---------------------------------------------------------------------------------------------
// Responses

/** The registration answer: the documented fields, never the password. */
export class UsersApiRegisteredUserDto {
  @ApiProperty({ type: String, nullable: true, example: 'user1' }) surname: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'user1@gmail.com' }) name: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'user1' }) patronymic: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'user1address' }) address: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'user1@gmail.com' }) email: string | null;
  @ApiProperty({ type: String, nullable: true, example: '+79967348137', description: 'The phone, E.164.' }) number: string | null;
}

/** The documented user object (`GET /users/user/`, and each item of `GET /users/user/executor/`). */
export class UsersApiUserDto extends UsersApiRegisteredUserDto {
  @ApiProperty({
    format: 'uuid',
    example: '0d3c8a52-5b8e-4a56-9d0e-2f5d1c7b9e41',
    description: "Deviation: a uuid string, where the document's example shows an integer (one user store is shared by every API).",
  })
  id: string;
  @ApiProperty({ example: false, description: 'The e-mail was proved with a code (`verify-email/` → `accept-email/`).' }) confirmed_email: boolean;
  @ApiProperty({ example: false, description: 'The phone was proved with an SMS code (through another API of this service).' }) confirmed_number: boolean;
  @ApiProperty({ format: 'date-time', example: '2023-05-05T06:36:51.301Z' }) created_at: string;
  @ApiProperty({ format: 'date-time', example: '2023-05-17T11:01:05.340Z' }) updated_at: string;
}

/** `auth/token/` and `auth/token/refresh`. */
export class UsersApiTokenPairDto {
  @ApiProperty({ example: 'Jt3x8bD0m1Ugq5Yc2s9QfLkPz7RwVaE4hNiK6oTjXy0', description: 'Opaque, single use: each refresh returns a new one.' }) refresh: string;
  @ApiProperty({
    example: 'eyJhbGciOiJFUzI1NiIsImtpZCI6Ii4uLiJ9.eyJzdWIiOiIuLi4ifQ.c2lnbmF0dXJl',
    description: 'JWT; send as `Authorization: Bearer <access>` or `Token <access>`.',
  })
  access: string;
  @ApiProperty({ type: 'integer', example: 900, description: 'Seconds the access token lives (ACCESS_TOKEN_TTL).' }) expired_at: number;
}

/** `PATCH /users/user/`: which fields changed and why the others did not. */
export class UsersApiUpdateResultDto {
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { Surname: 'Surname successfully changed', Name: 'Name successfully changed', Patronymic: 'Patronymic successfully changed' },
    description: 'Capitalised input name → "<Key> successfully changed".',
  })
  success: Record<string, string>;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { Email: 'user with this email already exists.' },
    description: 'Capitalised input name → why that field was not changed.',
  })
  error: Record<string, string>;
}

/** A one-line answer (`DELETE user/`, `verify-email/`, `accept-email/`). */
export class UsersApiDetailDto {
  @ApiProperty({ example: 'Successfully confirmed' }) detail: string;
}

/**
 * Errors, DRF style: `{"detail": "…"}` for a non-field error, `{"<field>": ["…"]}` for input errors
 * (`non_field_errors` when no single field is at fault).
 */
export class UsersApiErrorDto {
  @ApiPropertyOptional({ example: 'Authentication credentials were not provided.' }) detail?: string;
  @ApiPropertyOptional({ type: [String], example: ['Either email or number is required.'] }) non_field_errors?: string[];
  @ApiPropertyOptional({ type: [String], example: ['Ensure this field has no more than 100 characters.'] }) surname?: string[];
  @ApiPropertyOptional({ type: [String], example: ['Not a valid string.'] }) name?: string[];
  @ApiPropertyOptional({ type: [String], example: ['Ensure this field has no more than 100 characters.'] }) patronymic?: string[];
  @ApiPropertyOptional({ type: [String], example: ['Ensure this field has no more than 500 characters.'] }) address?: string[];
  @ApiPropertyOptional({ type: [String], example: ['user with this email already exists.'] }) email?: string[];
  @ApiPropertyOptional({ type: [String], example: ['Enter a valid phone number.'] }) number?: string[];
  @ApiPropertyOptional({ type: [String], example: ['password must be at least 8 characters long'] }) password?: string[];
  @ApiPropertyOptional({ type: [String], example: ['This field is required.'] }) refresh?: string[];
  @ApiPropertyOptional({ type: [String], example: ['This field is required.'] }) code?: string[];
  @ApiPropertyOptional({ type: [String], example: ['A valid integer is required.'] }) limit?: string[];
  @ApiPropertyOptional({ type: [String], example: ['Ensure this value is greater than or equal to 0.'] }) offset?: string[];
}
