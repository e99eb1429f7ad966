import { Module } from '@nestjs/common';
import { AuthModule } from '../../auth/auth.module';
import { UsersModule } from '../../users/users.module';
import { V1AdminUsersController } from './admin-users.controller';
import { V1AuthController } from './auth.controller';
import { V1MeController } from './me.controller';

@Module({
  imports: [AuthModule, UsersModule],
  controllers: [V1AuthController, V1MeController, V1AdminUsersController],
})
export class V1Module {}
