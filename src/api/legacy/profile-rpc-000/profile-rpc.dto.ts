import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsEmail, IsNotEmpty, IsOptional, IsString, IsUUID, MaxLength, ValidateIf } from 'class-validator';
import { lowerTrim, numberToText, wasSent } from '../../../common/dto-transforms';
import { CheckedByService } from '../../../common/openapi.decorators';
import { PHONE_RULE } from '../../../common/identifiers';
import { NEW_PASSWORD_RULE } from '../../../credentials/password-policy.service';

/** `POST /api/users/profile`: every field optional; an empty body reads the profile. */
export class ProfileRpcProfileUpdateDto {
  @ApiPropertyOptional({ example: 'admin' }) @ValidateIf(wasSent) @IsString() @MaxLength(100) name?: string;
  @ApiPropertyOptional({ example: 'admin' }) @ValidateIf(wasSent) @IsString() @MaxLength(100) surname?: string;
  @ApiPropertyOptional({ example: 'admin' }) @ValidateIf(wasSent) @IsString() @MaxLength(100) patronymic?: string;
  @ApiPropertyOptional({ example: 'admin@gmail.com' }) @ValidateIf(wasSent) @Transform(lowerTrim) @IsEmail() @MaxLength(254) email?: string;
  @ApiPropertyOptional({ example: true }) @ValidateIf(wasSent) @IsBoolean() auto_updating?: boolean;
  @ApiPropertyOptional({ example: true }) @ValidateIf(wasSent) @IsBoolean() auto_paying?: boolean;
  @ApiPropertyOptional({ example: 89999999999, description: 'A number or a string; stored in E.164.' })
  @ValidateIf(wasSent)
  @Transform(numberToText)
  @IsString()
  @MaxLength(32)
  @CheckedByService(PHONE_RULE)
  phone?: string;
  @ApiPropertyOptional({ example: '491405c1-0fcb-4e66-9f63-be0dbe6000c4' })
  @IsOptional()
  @IsUUID()
  cityId?: string | null;
}

export class ProfileRpcForgottenPasswordDto {
  @ApiProperty({ example: 'user@example.com' }) @Transform(lowerTrim) @IsEmail() @MaxLength(254) email: string;
}

/** With a bearer token: `{password, code}` (code from sendCode). Without: `{email, password, code}` (code from forgotenPassword). */
export class ProfileRpcResetPasswordDto {
  @ApiPropertyOptional({ example: 'user@example.com', description: 'Required without a bearer token.' })
  @IsOptional()
  @Transform(lowerTrim)
  @IsEmail()
  @MaxLength(254)
  email?: string;
  @ApiProperty({ example: 'a new long passphrase' }) @IsString() @IsNotEmpty() @CheckedByService(NEW_PASSWORD_RULE) password: string;
  @ApiProperty({ example: '123456', description: 'The 6-digit code from the e-mail.' })
  @Transform(numberToText)
  @IsString()
  @IsNotEmpty()
  @MaxLength(16)
  code: string;
}

export class ProfileRpcSetPushTokenDto {
  @ApiProperty({ example: 'myNewToken' }) @IsString() @IsNotEmpty() @MaxLength(512) token: string;
}

/** The documented profile object: exactly these keys. */
export class ProfileRpcProfileDto {
  @ApiProperty({ format: 'uuid', example: 'be39b4ee-06c3-4eea-ae7a-d3bded0069ef' }) id: string;
  @ApiProperty({ type: String, nullable: true, example: 'admin' }) name: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'admin' }) surname: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'admin' }) patronymic: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'mikmez01@gmail.com' }) email: string | null;
  @ApiProperty({ example: true }) auto_updating: boolean;
  @ApiProperty({ example: true }) auto_paying: boolean;
  @ApiProperty({ type: String, nullable: true, example: null, description: 'Always null: reset secrets are never returned.' }) hash_rst: null;
  @ApiProperty({ type: String, nullable: true, example: null, description: 'Always null: verification secrets are never returned.' }) hash_vrf: null;
  @ApiProperty({ type: String, nullable: true, example: 'myNewToken', description: 'The push token.' }) token: string | null;
  @ApiProperty({ type: String, nullable: true, example: '+79999999999', description: 'E.164.' }) phone: string | null;
  @ApiProperty({ enum: ['active', 'blocked'], example: 'active' }) status: string;
  @ApiProperty({ example: 'local' }) client: string;
  @ApiProperty({ enum: ['user', 'executor', 'administrator'], example: 'administrator' }) role: string;
  @ApiProperty({ type: String, nullable: true, format: 'uuid', example: '491405c1-0fcb-4e66-9f63-be0dbe6000c4' }) cityId: string | null;
  @ApiProperty({ format: 'date-time', example: '2023-05-05T06:36:51.301Z' }) createdAt: string;
  @ApiProperty({ format: 'date-time', example: '2023-05-17T11:01:05.340Z' }) updatedAt: string;
}

/** Errors: the document shows none; this service is a NestJS one, so its default exception body. */
export class ProfileRpcErrorDto {
  @ApiProperty({ example: 400 }) statusCode: number;
  @ApiProperty({ oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }], example: ['email must be an email'] }) message: string | string[];
  @ApiProperty({ example: 'Bad Request' }) error: string;
}
