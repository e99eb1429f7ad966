import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SessionsModule } from '../auth/sessions.module';
import { CredentialsModule } from '../credentials/credentials.module';
import { UsersModule } from '../users/users.module';
import { AppPasswords } from './app-passwords.service';
import { ChallengesRepository } from './challenges.repository';
import { MfaChallenge } from './mfa-challenge.entity';
import { MfaChallenges } from './mfa-challenges.service';
import { PasskeysService } from './passkeys.service';
import { SecondFactors } from './second-factors.service';
import { SecretBox } from './secret-box.service';
import { TotpService } from './totp.service';

/**
 * Multi-factor sign-in (issue 12): TOTP, passkeys and recovery codes as second factors, the
 * challenges of a second step or a step-up, and app passwords for the legacy surfaces. The rows
 * live in `credentials` (through CredentialsModule's FactorsRepository) and `mfa_challenges`.
 */
@Module({
  imports: [CredentialsModule, SessionsModule, UsersModule, TypeOrmModule.forFeature([MfaChallenge])],
  providers: [SecretBox, TotpService, PasskeysService, ChallengesRepository, MfaChallenges, SecondFactors, AppPasswords],
  exports: [MfaChallenges, SecondFactors, AppPasswords],
})
export class MfaModule {}
