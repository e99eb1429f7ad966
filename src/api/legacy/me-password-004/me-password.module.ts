import { CredentialsModule } from '../../../credentials/credentials.module';
import { Module } from '@nestjs/common';
import { AuthModule } from '../../../auth/auth.module';
import { VerificationModule } from '../../../verification/verification.module';
import { MePasswordController } from './me-password.controller';

/** Document 004 (`seeds/004`): `PATCH /me/password`. */
@Module({
  imports: [CredentialsModule, AuthModule, VerificationModule],
  controllers: [MePasswordController],
})
export class MePasswordModule {}
