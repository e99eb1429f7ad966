import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsNotEmpty, IsOptional, IsString, Matches, MaxLength, ValidateIf } from 'class-validator';
import { lowerTrim, trim } from '../../../common/dto-transforms';
import { AnyOfRequired, CheckedByService } from '../../../common/openapi.decorators';
import { PHONE_RULE } from '../../../common/identifiers';
import { NEW_PASSWORD_RULE } from '../../../credentials/password-policy.service';

const CODE = /^\d{6}$/;

export class ConfirmCodeDto {
  @ApiProperty({ example: '042917', description: 'The 6-digit code from the message.' })
  @Transform(trim)
  @IsString()
  @Matches(CODE, { message: 'code must be 6 digits' })
  code: string;
}

export class CodeSentDto {
  @ApiProperty({ enum: ['email', 'sms'] }) channel: 'email' | 'sms';
  @ApiProperty({ example: 'a*a@example.com', description: 'Where it went, masked.' }) destination: string;
  @ApiProperty({ example: 600, description: 'Seconds the code lives.' }) expiresIn: number;
  @ApiProperty({ example: 60, description: 'Seconds until another code may be requested.' }) retryAfter: number;
}

export class EmailConfirmedDto {
  @ApiProperty({ example: 'a*a@example.com' }) email: string;
  @ApiProperty({ format: 'date-time' }) emailVerifiedAt: string;
}

export class EmailRestoredDto {
  @ApiProperty({ example: 'a*a@example.com', description: 'The restored address, masked.' }) email: string;
  @ApiProperty({ example: 'The address is restored, every session has ended, and a password reset link is on its way there.' }) message: string;
}

@AnyOfRequired(['email'], ['phone'])
export class ForgotPasswordDto {
  @ApiPropertyOptional({ example: 'anna@example.com', description: 'Send a code and a link to this e-mail…' })
  @ValidateIf((body: ForgotPasswordDto) => body.phone === undefined || body.email !== undefined)
  @Transform(lowerTrim)
  @IsEmail({}, { message: 'email must be an e-mail address (or send phone instead)' })
  @MaxLength(254)
  email?: string;

  @ApiPropertyOptional({ example: '+79991234567', description: '…or an SMS code to this phone. Exactly one of the two.' })
  @ValidateIf((body: ForgotPasswordDto) => body.email === undefined)
  @IsString()
  @IsNotEmpty()
  @MaxLength(32)
  @CheckedByService(PHONE_RULE)
  phone?: string;
}

export class RecoveryRequestedDto {
  @ApiProperty({ example: 'If an account with this address exists, a message is on its way.' }) message: string;
  @ApiProperty({ example: 60, description: 'Seconds until another request for this address is accepted.' }) retryAfter: number;
}

@AnyOfRequired(['token'], ['email', 'code'], ['phone', 'code'])
export class ResetPasswordDto {
  @ApiPropertyOptional({ description: 'The token from the e-mailed link. Send it alone, or send email/phone with code.' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  token?: string;

  @ApiPropertyOptional({ example: 'anna@example.com' })
  @ValidateIf((body: ResetPasswordDto) => body.token === undefined && body.phone === undefined)
  @Transform(lowerTrim)
  @IsEmail({}, { message: 'email must be an e-mail address (or send phone, or token)' })
  @MaxLength(254)
  email?: string;

  @ApiPropertyOptional({ example: '+79991234567' })
  @ValidateIf((body: ResetPasswordDto) => body.token === undefined && body.email === undefined)
  @IsString()
  @IsNotEmpty()
  @MaxLength(32)
  @CheckedByService(PHONE_RULE)
  phone?: string;

  @ApiPropertyOptional({ example: '042917', description: 'The 6-digit code; required with email or phone.' })
  @ValidateIf((body: ResetPasswordDto) => body.token === undefined)
  @Transform(trim)
  @IsString()
  @Matches(CODE, { message: 'code must be 6 digits' })
  code?: string;

  @ApiProperty({ example: 'a new long passphrase', description: 'The new password (same policy as registration).' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(1024)
  @CheckedByService(NEW_PASSWORD_RULE)
  password: string;
}

export class ResetLinkStatusDto {
  @ApiProperty({ example: true }) valid: true;
  @ApiProperty({ format: 'date-time' }) expiresAt: string;
}
