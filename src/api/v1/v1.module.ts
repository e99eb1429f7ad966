import { CredentialsModule } from '../../credentials/credentials.module';
import { Module } from '@nestjs/common';
import { AuthModule } from '../../auth/auth.module';
import { UsersModule } from '../../users/users.module';
import { MfaModule } from '../../mfa/mfa.module';
import { VerificationModule } from '../../verification/verification.module';
import { V1AdminFactorsController } from './admin-factors.controller';
import { V1AdminUsersController } from './admin-users.controller';
import { V1AuthController } from './auth.controller';
import { V1AdminEventsController, V1MyEventsController } from './events.controller';
import { V1AppPasswordsController, V1FactorsController } from './factors.controller';
import { V1MeController } from './me.controller';
import { V1MfaSignInController, V1StepUpController } from './mfa.controller';
import { V1PasswordRecoveryController } from './password-recovery.controller';
import { V1Links } from './v1.links';
import { V1VerificationController } from './verification.controller';

@Module({
  imports: [CredentialsModule, AuthModule, MfaModule, UsersModule, VerificationModule],
  providers: [V1Links],
  controllers: [
    V1AuthController,
    V1MfaSignInController,
    V1MeController,
    V1MyEventsController,
    V1StepUpController,
    V1FactorsController,
    V1AppPasswordsController,
    V1AdminUsersController,
    V1AdminFactorsController,
    V1AdminEventsController,
    V1VerificationController,
    V1PasswordRecoveryController,
  ],
})
export class V1Module {}
