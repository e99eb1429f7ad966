import { ApiProperty } from '@nestjs/swagger';
import { USER_ROLES, USER_STATUSES, UserRole, UserStatus } from '../../../users/user.entity';

export class UserDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ type: String, nullable: true, example: 'anna' }) username: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'anna@example.com' }) email: string | null;
  @ApiProperty({ type: Boolean, example: false }) emailVerified: boolean;
  @ApiProperty({ type: String, nullable: true, example: '+79991234567', description: 'E.164' }) phone: string | null;
  @ApiProperty({ type: Boolean, example: false }) phoneVerified: boolean;
  @ApiProperty({ type: String, nullable: true, example: 'Anna' }) name: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'Petrova' }) surname: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'Ivanovna' }) patronymic: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'Petrova Anna Ivanovna', description: 'As set, else derived from surname, name, patronymic.' })
  fullName: string | null;
  @ApiProperty({ type: String, nullable: true }) address: string | null;
  @ApiProperty({ type: String, nullable: true }) contacts: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' }) cityId: string | null;
  @ApiProperty({ example: 'ind' }) userType: string;
  @ApiProperty({ enum: USER_ROLES, example: 'user' }) role: UserRole;
  @ApiProperty({ enum: USER_STATUSES, example: 'active' }) status: UserStatus;
  @ApiProperty({ example: 'local' }) authClient: string;
  @ApiProperty() autoUpdating: boolean;
  @ApiProperty() autoPaying: boolean;
  @ApiProperty({ type: String, nullable: true, enum: ['en', 'ru'] }) locale: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) emailVerifiedAt: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) phoneVerifiedAt: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export class UserPageDto {
  @ApiProperty({ type: [UserDto] }) items: UserDto[];
  @ApiProperty({ example: 42 }) total: number;
  @ApiProperty({ example: 1 }) page: number;
  @ApiProperty({ example: 20 }) limit: number;
}

export class SessionDto {
  @ApiProperty({ format: 'uuid', description: "Equals the `sid` claim of this session's access tokens." }) id: string;
  @ApiProperty({ description: 'True for the session of the token making this request.' }) current: boolean;
  @ApiProperty({ type: String, nullable: true }) userAgent: string | null;
  @ApiProperty({ type: String, nullable: true, example: '203.0.113.7' }) ip: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) lastUsedAt: string;
  @ApiProperty({ format: 'date-time' }) expiresAt: string;
  @ApiProperty({
    type: [String],
    example: ['pwd', 'otp'],
    description: 'How the session proved who its user is: `pwd`, `otp`, `webauthn`, `recovery`, `app-password`.',
  })
  amr: string[];
  @ApiProperty({ enum: ['aal1', 'aal2'], description: 'Assurance level: aal2 after a second factor (or a passkey alone).' }) aal: 'aal1' | 'aal2';
  @ApiProperty({
    type: String,
    nullable: true,
    format: 'uuid',
    description: 'The app password that opened the session (legacy clients); revoking it ends the session.',
  })
  appPasswordId: string | null;
}
