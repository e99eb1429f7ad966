import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SessionsModule } from '../auth/sessions.module';
import { NotificationsModule } from '../notifications/notifications.module';
import { UsersModule } from '../users/users.module';
import { VerificationModule } from '../verification/verification.module';
import { ContactChanges } from './contact-changes.service';
import { Credential } from './credential.entity';
import { CredentialsRepository } from './credentials.repository';
import { CredentialsService } from './credentials.service';
import { FactorsRepository } from './factors.repository';
import { PasswordHasher } from './password-hasher.service';
import { PasswordPolicy } from './password-policy.service';
import { PasswordRecoveryService } from './password-recovery.service';
import { SecurityNotices } from './security-notices.service';

/**
 * How users prove who they are, and every change that could hand an account to someone else:
 * passwords (set, proved, locked out), resets, and e-mail and phone changes (SPEC §9 rules 1–5).
 * The table's other rows (second factors, recovery codes, app passwords) are read and written
 * through FactorsRepository, exported for the MFA module that gives them their rules.
 */
@Module({
  imports: [UsersModule, SessionsModule, NotificationsModule, VerificationModule, TypeOrmModule.forFeature([Credential])],
  providers: [
    CredentialsRepository,
    FactorsRepository,
    CredentialsService,
    PasswordHasher,
    PasswordPolicy,
    PasswordRecoveryService,
    ContactChanges,
    SecurityNotices,
  ],
  exports: [CredentialsService, FactorsRepository, PasswordPolicy, PasswordRecoveryService, ContactChanges, SecurityNotices],
})
export class CredentialsModule {}
