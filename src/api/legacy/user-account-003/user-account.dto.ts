import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsEmail, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { looseBoolean, lowerTrim, numberToText, trim } from '../../../common/dto-transforms';
import { CheckedByService } from '../../../common/openapi.decorators';
import { PHONE_RULE, USERNAME_RULE } from '../../../common/identifiers';
import { NEW_PASSWORD_RULE } from '../../../credentials/password-policy.service';

// ---- requests ----

export class UserAccountLoginDto {
  @ApiProperty({ example: 'admin', description: 'The username or the e-mail (a phone number works too).' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(254)
  username: string;
  @ApiProperty({ example: 'a long passphrase' }) @IsString() @IsNotEmpty() @MaxLength(1024) pwd: string;
  @ApiPropertyOptional({ example: true, description: 'The token lives REMEMBER_ME_TTL (30 days by default) instead of REFRESH_TOKEN_TTL (1 day).' })
  @IsOptional()
  @Transform(looseBoolean)
  @IsBoolean()
  remember?: boolean;
}

export class UserAccountRegistrationDto {
  @ApiProperty({
    example: 'Admin',
    description:
      '2–64 letters, digits, "_", "." or "-", starting with a letter; reserved names (root, support, …) are refused with "username is not allowed.".',
  })
  @Transform(trim)
  @IsString()
  @IsNotEmpty()
  @CheckedByService(USERNAME_RULE)
  username: string;
  @ApiPropertyOptional({ type: String, nullable: true, example: 'Admin A.A.' }) @IsOptional() @Transform(trim) @IsString() @MaxLength(300) full_name?:
    string | null;
  @ApiProperty({ example: 't@t.tt', description: 'The confirmation link goes here.' }) @Transform(lowerTrim) @IsEmail() @MaxLength(254) email: string;
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: '+79991234567',
    description: 'Any common form (a JSON number is read as text too); stored in E.164.',
  })
  @IsOptional()
  @Transform(numberToText)
  @IsString()
  @MaxLength(32)
  @CheckedByService(PHONE_RULE)
  phone?: string | null;
  @ApiPropertyOptional({ type: String, nullable: true, example: null, description: 'Free text.' }) @IsOptional() @IsString() @MaxLength(500) contacts?:
    string | null;
  @ApiProperty({ example: 'a long passphrase', description: 'At least PASSWORD_MIN_LENGTH (8) characters, not a common password.' })
  @IsString()
  @IsNotEmpty()
  @CheckedByService(NEW_PASSWORD_RULE)
  pwd: string;
}

export class UserAccountResetPasswordRequestDto {
  @ApiProperty({ example: 'Admin', description: "The username, e-mail or phone; the link goes to the account's e-mail." })
  @IsString()
  @IsNotEmpty()
  @MaxLength(254)
  username: string;
}

export class UserAccountResetPasswordDto {
  @ApiProperty({ example: 'a new long passphrase' }) @IsString() @IsNotEmpty() @CheckedByService(NEW_PASSWORD_RULE) new_pwd: string;
}

// ---- responses: {"status":"OK"|"ERR","msg":…,"data"?:…} ----

/** A success without data. */
export class UserAccountMessageDto {
  @ApiProperty({ enum: ['OK'] }) status: 'OK';
  @ApiProperty({ example: 'Check your email...' }) msg: string;
}

export class UserAccountServiceInfoDataDto {
  @ApiProperty({ example: 'identity-service' }) name: string;
  @ApiProperty({ example: '0.1.0', description: 'The version in package.json, read at start-up.' }) version: string;
}

export class UserAccountServiceInfoDto {
  @ApiProperty({ enum: ['OK'] }) status: 'OK';
  @ApiProperty({ example: 'identity-service' }) msg: string;
  @ApiProperty() data: UserAccountServiceInfoDataDto;
}

export class UserAccountTokenDataDto {
  @ApiProperty({
    example: 'eyJhbGciOiJFUzI1NiIsImtpZCI6…',
    description: 'An access token (JWT) that lives as long as its session; send it as `Authorization: Token <token>` or `Bearer <token>`.',
  })
  token: string;
}

export class UserAccountLoggedInDto {
  @ApiProperty() data: UserAccountTokenDataDto;
  @ApiProperty({ example: 'success' }) msg: string;
  @ApiProperty({ enum: ['OK'] }) status: 'OK';
}

/** The documented profile: exactly these keys. */
export class UserAccountProfileSettingsDataDto {
  @ApiProperty({ type: String, nullable: true, example: null }) contacts: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'd*z@yandex.ru', description: 'Masked: the first and last character of the local part around "*".' })
  email: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'Admin A.A.' }) full_name: string | null;
  @ApiProperty({ example: false }) is_email_verified: boolean;
  @ApiProperty({ type: String, nullable: true, example: null, description: 'E.164.' }) phone: string | null;
  @ApiProperty({ enum: ['********'], description: 'Always the mask: passwords are never returned.' }) pwd: '********';
  @ApiProperty({ type: String, nullable: true, example: 'Admin' }) username: string | null;
}

export class UserAccountProfileSettingsDto {
  @ApiProperty() data: UserAccountProfileSettingsDataDto;
  @ApiProperty({ example: 'success' }) msg: string;
  @ApiProperty({ enum: ['OK'] }) status: 'OK';
}

export class UserAccountErrorDto {
  @ApiProperty({ enum: ['ERR'] }) status: 'ERR';
  @ApiProperty({ example: 'wrong login or password' }) msg: string;
}
