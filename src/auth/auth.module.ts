import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { CredentialsModule } from '../credentials/credentials.module';
import { MfaModule } from '../mfa/mfa.module';
import { UsersModule } from '../users/users.module';
import { AuthService } from './auth.service';
import { JwtAuthGuard } from './jwt-auth.guard';
import { JwtStrategy } from './jwt.strategy';
import { SessionsModule } from './sessions.module';
import { WellKnownController } from './well-known.controller';

/** Sign-in and the token check of every request (the global guard). */
@Module({
  imports: [UsersModule, SessionsModule, CredentialsModule, MfaModule, PassportModule],
  controllers: [WellKnownController],
  providers: [AuthService, JwtStrategy, JwtAuthGuard],
  exports: [AuthService, SessionsModule, MfaModule, JwtAuthGuard],
})
export class AuthModule {}
