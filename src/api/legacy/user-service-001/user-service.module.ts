import { CredentialsModule } from '../../../credentials/credentials.module';
import { Module } from '@nestjs/common';
import { AuthModule } from '../../../auth/auth.module';
import { UsersModule } from '../../../users/users.module';
import { UserServiceController } from './user-service.controller';

/** Document 001 (`seeds/001`): the user service at the root (`/auth/*`, `/{user_id}`). */
@Module({
  imports: [CredentialsModule, UsersModule, AuthModule],
  controllers: [UserServiceController],
})
export class UserServiceModule {}
