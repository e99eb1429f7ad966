import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/auth.module';
import { NotificationsModule } from '../notifications/notifications.module';
import { UsersModule } from '../users/users.module';
import { ContactVerificationService } from './contact-verification.service';
import { PasswordRecoveryService } from './password-recovery.service';
import { SendCooldown } from './send-cooldown.entity';
import { VerificationHousekeeping } from './verification-housekeeping.service';
import { VerificationSecret } from './verification-secret.entity';
import { VerificationService } from './verification.service';

@Module({
  imports: [UsersModule, AuthModule, NotificationsModule, TypeOrmModule.forFeature([VerificationSecret, SendCooldown])],
  providers: [VerificationService, ContactVerificationService, PasswordRecoveryService, VerificationHousekeeping],
  exports: [VerificationService, ContactVerificationService, PasswordRecoveryService],
})
export class VerificationModule {}
