import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthCache } from './auth-cache';
import { RefreshToken } from './refresh-token.entity';
import { ServerSecret } from './server-secret.entity';
import { ServerSecretsService } from './server-secrets.service';
import { Session } from './session.entity';
import { SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';
import { SigningKey } from './signing-key.entity';
import { SigningKeysService } from './signing-keys.service';
import { TokenService } from './token.service';

/** Sessions, refresh rotation and the signing keys: what a sign-in produces and a token check reads. */
@Module({
  imports: [TypeOrmModule.forFeature([Session, RefreshToken, SigningKey, ServerSecret])],
  providers: [AuthCache, SessionsService, SessionsRepository, SigningKeysService, ServerSecretsService, TokenService],
  exports: [AuthCache, SessionsService, SigningKeysService, TokenService, ServerSecretsService],
})
export class SessionsModule {}
