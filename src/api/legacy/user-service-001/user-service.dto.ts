import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsEmail, IsNotEmpty, IsOptional, IsString, MaxLength, ValidateIf } from 'class-validator';
import { looseBoolean, lowerTrim, numberToText, trim, wasSent } from '../../../common/dto-transforms';
import { AnyOfRequired, CheckedByService } from '../../../common/openapi.decorators';
import { PHONE_RULE, USERNAME_RULE } from '../../../common/identifiers';
import { NEW_PASSWORD_RULE } from '../../../credentials/password-policy.service';

@AnyOfRequired(['username'], ['email'], ['contact_number'])
export class UserServiceRegisterDto {
  @ApiPropertyOptional({ example: 'ind', default: 'ind' }) @ValidateIf(wasSent) @IsString() @IsNotEmpty() @MaxLength(32) user_type?: string;
  @ApiPropertyOptional({ example: 'egor228' }) @IsOptional() @Transform(trim) @IsString() @MaxLength(64) @CheckedByService(USERNAME_RULE) username?: string;
  @ApiProperty({ example: 'a long passphrase' }) @IsString() @IsNotEmpty() @CheckedByService(NEW_PASSWORD_RULE) password: string;
  @ApiPropertyOptional({ example: 'citymodz@yandex.com' }) @IsOptional() @Transform(lowerTrim) @IsEmail() @MaxLength(254) email?: string;
  @ApiPropertyOptional({ example: '+79853553825' })
  @IsOptional()
  @Transform(numberToText)
  @IsString()
  @MaxLength(32)
  @CheckedByService(PHONE_RULE)
  contact_number?: string;
}

export class UserServiceLoginDto {
  @ApiProperty({ example: 'egor228', description: 'The e-mail or the username (a phone number works too).' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(254)
  email_or_name: string;
  @ApiProperty({ example: 'pass12345' }) @IsString() @IsNotEmpty() @MaxLength(1024) password: string;
  @ApiPropertyOptional({ example: true, description: 'The token lives REMEMBER_ME_TTL instead of REFRESH_TOKEN_TTL.' })
  @IsOptional()
  @Transform(looseBoolean)
  @IsBoolean()
  remember_me?: boolean;
}

/** Every field optional: the ones sent are changed. A new password ends the user's other sessions. */
export class UserServiceUpdateUserDto {
  @ApiPropertyOptional({ example: 'ind' }) @ValidateIf(wasSent) @IsString() @IsNotEmpty() @MaxLength(32) user_type?: string;
  @ApiPropertyOptional({ example: 'egor228' })
  @ValidateIf(wasSent)
  @Transform(trim)
  @IsString()
  @MaxLength(64)
  @CheckedByService(USERNAME_RULE)
  username?: string;
  @ApiPropertyOptional({ example: 'a new long passphrase' })
  @ValidateIf(wasSent)
  @IsString()
  @IsNotEmpty()
  @CheckedByService(NEW_PASSWORD_RULE)
  password?: string;
  @ApiPropertyOptional({ example: 'AGUREZ@yandex.com' }) @ValidateIf(wasSent) @Transform(lowerTrim) @IsEmail() @MaxLength(254) email?: string;
  @ApiPropertyOptional({ example: '+79853553825' })
  @ValidateIf(wasSent)
  @Transform(numberToText)
  @IsString()
  @MaxLength(32)
  @CheckedByService(PHONE_RULE)
  contact_number?: string;
}

export class UserServiceRegisteredDataDto {
  @ApiProperty({ format: 'uuid', example: 'e5f8433e-76a9-4509-87f0-e1b12354d92b' }) user_id: string;
}

export class UserServiceRegisteredDto {
  @ApiProperty({ enum: ['success'] }) status: 'success';
  @ApiProperty() data: UserServiceRegisteredDataDto;
}

export class UserServiceLoginDataDto {
  @ApiProperty({ example: 'eyJhbGciOiJFUzI1NiIsImtpZCI6…' }) token: string;
  @ApiProperty({ name: 'token-expiry', example: 86400, description: 'Seconds the token lives.' }) 'token-expiry': number;
}

export class UserServiceLoggedInDto {
  @ApiProperty({ enum: ['success'] }) status: 'success';
  @ApiProperty() data: UserServiceLoginDataDto;
}

export class UserServiceUserDataDto {
  @ApiProperty({ format: 'uuid', example: 'e5f8433e-76a9-4509-87f0-e1b12354d92b' }) id: string;
  @ApiProperty({ type: String, nullable: true, example: 'agurez@yandex.com' }) email: string | null;
  @ApiProperty({ example: 'ind' }) user_type: string;
  @ApiProperty({ type: String, nullable: true, example: 'egor228' }) username: string | null;
  @ApiProperty({ type: String, nullable: true, example: '+79853553825' }) contact_number: string | null;
  @ApiProperty({ enum: ['Not_Verifyed', 'Verified'], description: '"Verified" once the e-mail is confirmed (spelling as documented).' }) user_role:
    'Not_Verifyed' | 'Verified';
  @ApiProperty({ format: 'date-time', example: '2024-12-15T12:48:46.195+00:00' }) created: string;
  @ApiProperty({ format: 'date-time', example: '2024-12-15T18:01:34.382+00:00' }) updated: string;
}

export class UserServiceUserEnvelopeDto {
  @ApiProperty({ enum: ['success'] }) status: 'success';
  @ApiProperty() data: UserServiceUserDataDto;
}

export class UserServiceSuccessDto {
  @ApiProperty({ enum: ['success'] }) status: 'success';
}

export class UserServiceErrorDto {
  @ApiProperty({ enum: ['error'] }) status: 'error';
  @ApiProperty({ example: 'wrong login or password' }) message: string;
}
