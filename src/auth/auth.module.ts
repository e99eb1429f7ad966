import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import { NotificationsModule } from '../notifications/notifications.module';
import { UsersModule } from '../users/users.module';
import { AuthService } from './auth.service';
import { JwtAuthGuard } from './jwt-auth.guard';
import { JwtStrategy } from './jwt.strategy';
import { RefreshToken } from './refresh-token.entity';
import { Session } from './session.entity';
import { ServerSecret } from './server-secret.entity';
import { ServerSecretsService } from './server-secrets.service';
import { SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';
import { SigningKey } from './signing-key.entity';
import { SigningKeysService } from './signing-keys.service';
import { TokenService } from './token.service';
import { WellKnownController } from './well-known.controller';

@Module({
  imports: [UsersModule, NotificationsModule, PassportModule, JwtModule.register({}), TypeOrmModule.forFeature([Session, RefreshToken, SigningKey, ServerSecret])],
  controllers: [WellKnownController],
  providers: [AuthService, SessionsService, SessionsRepository, SigningKeysService, ServerSecretsService, TokenService, JwtStrategy, JwtAuthGuard],
  exports: [AuthService, SessionsService, TokenService, JwtAuthGuard],
})
export class AuthModule {}
