import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsEmail, IsIn, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { UserDto } from './user.dto';
import { lowerTrim } from '../../../common/dto-transforms';
import { AnyOfRequired, CheckedByService } from '../../../common/openapi.decorators';
import { PHONE_RULE, USERNAME_RULE } from '../../../common/identifiers';
import { NEW_PASSWORD_RULE } from '../../../credentials/password-policy.service';

@AnyOfRequired(['email'], ['username'], ['phone'])
export class RegisterDto {
  @ApiPropertyOptional({ example: 'anna@example.com' })
  @IsOptional()
  @Transform(lowerTrim)
  @IsEmail()
  @MaxLength(254)
  email?: string;

  @ApiPropertyOptional({ example: 'anna', description: '2–64 letters, digits, "_", "." or "-", starting with a letter.' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  @CheckedByService(USERNAME_RULE)
  username?: string;

  @ApiPropertyOptional({ example: '+79991234567', description: 'Any common format; stored as E.164 (numbers without + are read in DEFAULT_PHONE_REGION).' })
  @IsOptional()
  @IsString()
  @MaxLength(32)
  @CheckedByService(PHONE_RULE)
  phone?: string;

  @ApiProperty({
    example: 'correct horse battery staple',
    description: 'PASSWORD_MIN_LENGTH to 128 characters, not a common password, not the e-mail/username/phone.',
  })
  @IsString()
  @IsNotEmpty()
  @CheckedByService(NEW_PASSWORD_RULE)
  password: string;

  @ApiPropertyOptional({ example: 'Anna' }) @IsOptional() @IsString() @MaxLength(100) name?: string;
  @ApiPropertyOptional({ example: 'Petrova' }) @IsOptional() @IsString() @MaxLength(100) surname?: string;
  @ApiPropertyOptional({ example: 'Ivanovna' }) @IsOptional() @IsString() @MaxLength(100) patronymic?: string;

  @ApiPropertyOptional({ example: 'en', enum: ['en', 'ru'], description: 'Language of the messages we send.' })
  @IsOptional()
  @IsIn(['en', 'ru'])
  locale?: string;
}

export class LoginDto {
  @ApiProperty({ example: 'anna@example.com', description: 'E-mail, username or phone number.' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(254)
  login: string;

  @ApiProperty({ example: 'correct horse battery staple' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(1024)
  password: string;

  @ApiPropertyOptional({ default: false, description: 'Keep the session for REMEMBER_ME_TTL instead of REFRESH_TOKEN_TTL.' })
  @IsOptional()
  @IsBoolean()
  rememberMe?: boolean;
}

export class RefreshDto {
  @ApiProperty({ example: 'q3Jv…', description: 'The refresh token from the last sign-in or refresh.' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(512)
  refreshToken: string;
}

export class TokenPairDto {
  @ApiProperty({ description: 'JWT (ES256/RS256) for `Authorization: Bearer`.' }) accessToken: string;
  @ApiProperty({ example: 'Bearer' }) tokenType: 'Bearer';
  @ApiProperty({ example: 900, description: 'Seconds the access token lives.' }) expiresIn: number;
  @ApiProperty({ description: 'Opaque; single use: every refresh returns a new one.' }) refreshToken: string;
  @ApiProperty({ example: 86400, description: 'Seconds until the session ends unless refreshed.' }) refreshExpiresIn: number;
  @ApiProperty({ format: 'uuid', description: "The session id (the token's `sid`)." }) sessionId: string;
}

export class LoginResponseDto extends TokenPairDto {
  @ApiProperty({ type: UserDto }) user: UserDto;
}
