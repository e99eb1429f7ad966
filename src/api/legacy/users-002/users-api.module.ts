import { CredentialsModule } from '../../../credentials/credentials.module';
import { Module } from '@nestjs/common';
import { AuthModule } from '../../../auth/auth.module';
import { UsersModule } from '../../../users/users.module';
import { VerificationModule } from '../../../verification/verification.module';
import { UsersApiAuthController, UsersApiUserController } from './users-api.controller';

/** Document 002 (`seeds/002`): the users API under /users/. */
@Module({
  imports: [CredentialsModule, UsersModule, AuthModule, VerificationModule],
  controllers: [UsersApiAuthController, UsersApiUserController],
})
export class UsersApiModule {}
