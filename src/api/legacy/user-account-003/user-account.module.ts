import { CredentialsModule } from '../../../credentials/credentials.module';
import { Module } from '@nestjs/common';
import { AuthModule } from '../../../auth/auth.module';
import { UsersModule } from '../../../users/users.module';
import { VerificationModule } from '../../../verification/verification.module';
import { UserAccountController } from './user-account.controller';
import { UserAccountLinks } from './user-account.links';

/** Document 003 (`seeds/003`): user_account endpoints under /api/ (and the service info at /). */
@Module({
  imports: [CredentialsModule, UsersModule, AuthModule, VerificationModule],
  providers: [UserAccountLinks],
  controllers: [UserAccountController],
})
export class UserAccountModule {}
