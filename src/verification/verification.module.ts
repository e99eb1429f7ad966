import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { NotificationsModule } from '../notifications/notifications.module';
import { UsersModule } from '../users/users.module';
import { ContactVerificationService } from './contact-verification.service';
import { SendCooldown } from './send-cooldown.entity';
import { VerificationHousekeeping } from './verification-housekeeping.service';
import { VerificationSecret } from './verification-secret.entity';
import { VerificationService } from './verification.service';

@Module({
  imports: [UsersModule, NotificationsModule, TypeOrmModule.forFeature([VerificationSecret, SendCooldown])],
  providers: [VerificationService, ContactVerificationService, VerificationHousekeeping],
  exports: [VerificationService, ContactVerificationService],
})
export class VerificationModule {}
