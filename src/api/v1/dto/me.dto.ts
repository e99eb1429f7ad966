import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsEmail, IsIn, IsNotEmpty, IsOptional, IsString, IsUUID, MaxLength, ValidateIf } from 'class-validator';
import { lowerTrim } from '../../../common/dto-transforms';

const nullable = { nullable: true } as const;

/** Every field is optional; `null` clears it. Changing e-mail or phone clears its verification. */
export class UpdateMeDto {
  @ApiPropertyOptional({ ...nullable, type: String, example: 'anna' }) @IsOptional() @IsString() @MaxLength(64) username?: string | null;
  @ApiPropertyOptional({ ...nullable, type: String, example: 'anna@example.com' })
  @IsOptional() @Transform(lowerTrim) @IsEmail() @MaxLength(254)
  email?: string | null;
  @ApiPropertyOptional({ ...nullable, type: String, example: '+79991234567' }) @IsOptional() @IsString() @MaxLength(32) phone?: string | null;
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
  @ApiProperty({ example: 'a new long passphrase' }) @IsString() @IsNotEmpty() newPassword: string;
}

export class PushTokenDto {
  @ApiProperty({ type: String, nullable: true, example: 'fcm:APA91b…', description: 'The device push token; null removes it.' })
  @ValidateIf((_, v) => v !== null) @IsString() @IsNotEmpty() @MaxLength(512)
  token: string | null;
}
