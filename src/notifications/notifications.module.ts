import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { NotificationsService } from './notifications.service';
import { OutboxDispatcher } from './outbox-dispatcher.service';
import { OutboxMessage } from './outbox-message.entity';

@Module({
  imports: [TypeOrmModule.forFeature([OutboxMessage])],
  providers: [NotificationsService, OutboxDispatcher],
  exports: [NotificationsService, OutboxDispatcher],
})
export class NotificationsModule {}
