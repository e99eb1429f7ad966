import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { numberToText } from '../../../common/dto-transforms';
import { CheckedByService, OneOfShapes } from '../../../common/openapi.decorators';
import { PHONE_RULE } from '../../../common/identifiers';
import { NEW_PASSWORD_RULE } from '../../../credentials/password-policy.service';

/**
 * Both modes of `PATCH /me/password` in one body: with a token `{password, newPassword}`;
 * without one `{phone}`, then `{phone, code, password}`. Which fields a mode needs is checked by
 * the controller, so each missing one gets its own documented code.
 */
@OneOfShapes({ change: ['password', 'newPassword'], sendCode: ['phone'], reset: ['phone', 'code', 'password'] })
export class MePasswordDto {
  @ApiPropertyOptional({ description: 'With a token: the current password. Without: the new password (step 2).', example: 'the current password' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  password?: string;

  @ApiPropertyOptional({ description: 'With a token: the new password.', example: 'a new long passphrase' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  @CheckedByService(NEW_PASSWORD_RULE)
  newPassword?: string;

  @ApiPropertyOptional({ description: 'Without a token: the phone number (steps 1 and 2).', example: 79991234567 })
  @IsOptional()
  @Transform(numberToText)
  @IsString()
  @MaxLength(32)
  @CheckedByService(PHONE_RULE)
  phone?: string;

  @ApiPropertyOptional({ type: String, description: 'Without a token: the SMS code (step 2).', example: '123456' })
  @IsOptional()
  @Transform(numberToText)
  @IsString()
  @MaxLength(16)
  code?: string;
}

export class MePasswordTimeoutDto {
  @ApiProperty({ type: 'integer', nullable: true, example: 30, description: 'Seconds until another code may be sent.' }) timeout: number | null;
}

export class MePasswordErrorDto {
  @ApiProperty({ example: 21014, description: 'The documented error code (21001–21015).' }) code: number;
  @ApiProperty({ example: 'the current password is wrong' }) message: string;
  @ApiPropertyOptional({ example: 17, description: 'With 21011: seconds until a code may be sent again (also in Retry-After).' }) timeout?: number;
}
