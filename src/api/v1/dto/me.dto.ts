import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsEmail, IsIn, IsNotEmpty, IsOptional, IsString, IsUUID, MaxLength, ValidateIf } from 'class-validator';
import { lowerTrim } from '../../../common/dto-transforms';
import { CheckedByService } from '../../../common/openapi.decorators';
import { PHONE_RULE, USERNAME_RULE } from '../../../common/identifiers';
import { NEW_PASSWORD_RULE } from '../../../credentials/password-policy.service';

const nullable = { nullable: true } as const;

/**
 * A sensitive change's proof (SPEC §9 rule 4): the current password, unless this session signed in
 * within REAUTH_MAX_AGE. An account with a second factor needs aal2 within REAUTH_MAX_AGE instead
 * (a sign-in with its second step, or POST /v1/me/step-up): the password alone is not enough.
 */
export class FreshProofDto {
  @ApiPropertyOptional({
    example: 'the current password',
    description:
      'Required unless this session signed in within the last REAUTH_MAX_AGE seconds (default 300). A wrong one counts toward the account lockout. ' +
      'An account with a second factor needs a second factor within REAUTH_MAX_AGE instead (403 StepUpRequired: POST /v1/me/step-up).',
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(1024)
  currentPassword?: string;
}

/**
 * Every field is optional; `null` clears it. A new phone clears its verification and needs fresh
 * proof; the e-mail changes through `POST /v1/me/email/change` (two steps).
 */
export class UpdateMeDto extends FreshProofDto {
  @ApiPropertyOptional({ ...nullable, type: String, example: 'anna' }) @IsOptional() @IsString() @MaxLength(64) @CheckedByService(USERNAME_RULE) username?:
    string | null;
  @ApiPropertyOptional({
    ...nullable,
    type: String,
    description: '`null` removes the e-mail (fresh proof needed). A new address is not set here (400): use POST /v1/me/email/change.',
  })
  @IsOptional()
  @Transform(lowerTrim)
  @IsEmail()
  @MaxLength(254)
  email?: string | null;
  @ApiPropertyOptional({ ...nullable, type: String, example: '+79991234567' }) @IsOptional() @IsString() @MaxLength(32) @CheckedByService(PHONE_RULE) phone?:
    string | null;
  @ApiPropertyOptional({ ...nullable, type: String }) @IsOptional() @IsString() @MaxLength(100) name?: string | null;
  @ApiPropertyOptional({ ...nullable, type: String }) @IsOptional() @IsString() @MaxLength(100) surname?: string | null;
  @ApiPropertyOptional({ ...nullable, type: String }) @IsOptional() @IsString() @MaxLength(100) patronymic?: string | null;
  @ApiPropertyOptional({ ...nullable, type: String }) @IsOptional() @IsString() @MaxLength(300) fullName?: string | null;
  @ApiPropertyOptional({ ...nullable, type: String }) @IsOptional() @IsString() @MaxLength(500) address?: string | null;
  @ApiPropertyOptional({ ...nullable, type: String }) @IsOptional() @IsString() @MaxLength(500) contacts?: string | null;
  @ApiPropertyOptional({ ...nullable, type: String, format: 'uuid' }) @IsOptional() @IsUUID() cityId?: string | null;
  @ApiPropertyOptional({ example: 'ind' }) @ValidateIf((_, v) => v !== undefined) @IsString() @IsNotEmpty() @MaxLength(32) userType?: string;
  @ApiPropertyOptional() @ValidateIf((_, v) => v !== undefined) @IsBoolean() autoUpdating?: boolean;
  @ApiPropertyOptional() @ValidateIf((_, v) => v !== undefined) @IsBoolean() autoPaying?: boolean;
  @ApiPropertyOptional({ ...nullable, type: String, enum: ['en', 'ru'] }) @IsOptional() @IsIn(['en', 'ru']) locale?: string | null;
}

export class ChangePasswordDto {
  @ApiProperty({ example: 'the current password' }) @IsString() @IsNotEmpty() @MaxLength(1024) currentPassword: string;
  @ApiProperty({ example: 'a new long passphrase' }) @IsString() @IsNotEmpty() @CheckedByService(NEW_PASSWORD_RULE) newPassword: string;
}

export class DeleteMeDto extends FreshProofDto {}

export class EmailChangeDto extends FreshProofDto {
  @ApiProperty({ example: 'anna.new@example.com', description: 'The new address: a code and a link go there; it applies once one of them is used.' })
  @Transform(lowerTrim)
  @IsEmail()
  @MaxLength(254)
  email: string;
}

export class PushTokenDto {
  @ApiProperty({ type: String, nullable: true, example: 'fcm:APA91b…', description: 'The device push token; null removes it.' })
  @ValidateIf((_, v) => v !== null)
  @IsString()
  @IsNotEmpty()
  @MaxLength(512)
  token: string | null;
}
