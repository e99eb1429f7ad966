import { Module } from '@nestjs/common';
import { CredentialsModule } from '../credentials/credentials.module';
import { MfaModule } from '../mfa/mfa.module';
import { UsersModule } from '../users/users.module';
import { AccessTokenVerifier } from './access-token.verifier';
import { AuthService } from './auth.service';
import { JwtAuthGuard } from './jwt-auth.guard';
import { SessionsModule } from './sessions.module';
import { WellKnownController } from './well-known.controller';

/** Sign-in and the token check of every request (the global guard). */
@Module({
  imports: [UsersModule, SessionsModule, CredentialsModule, MfaModule],
  controllers: [WellKnownController],
  providers: [AuthService, AccessTokenVerifier, JwtAuthGuard],
  exports: [AuthService, SessionsModule, MfaModule, JwtAuthGuard],
})
export class AuthModule {}
