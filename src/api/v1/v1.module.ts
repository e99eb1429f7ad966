import { CredentialsModule } from '../../credentials/credentials.module';
import { Module } from '@nestjs/common';
import { AuthModule } from '../../auth/auth.module';
import { UsersModule } from '../../users/users.module';
import { VerificationModule } from '../../verification/verification.module';
import { V1AdminUsersController } from './admin-users.controller';
import { V1AuthController } from './auth.controller';
import { V1AdminEventsController, V1MyEventsController } from './events.controller';
import { V1MeController } from './me.controller';
import { V1PasswordRecoveryController } from './password-recovery.controller';
import { V1Links } from './v1.links';
import { V1VerificationController } from './verification.controller';

@Module({
  imports: [CredentialsModule, AuthModule, UsersModule, VerificationModule],
  providers: [V1Links],
  controllers: [
    V1AuthController,
    V1MeController,
    V1MyEventsController,
    V1AdminUsersController,
    V1AdminEventsController,
    V1VerificationController,
    V1PasswordRecoveryController,
  ],
})
export class V1Module {}
