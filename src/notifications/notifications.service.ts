import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { Locale } from '../common/locale';
import { OutboxDispatcher } from './outbox-dispatcher.service';
import { MessageChannel, OutboxMessage } from './outbox-message.entity';
import { renderTemplate, TemplateName, TemplateParams } from './templates';

export interface OutgoingMessage {
  /** The account it concerns (its pending messages go when it is deleted). */
  userId: string | null;
  channel: MessageChannel;
  /** An e-mail address or an E.164 phone. */
  to: string;
  template: TemplateName;
  locale: Locale;
  params?: TemplateParams;
}

/** The one way anything leaves the service: rendered into the outbox, delivered by the dispatcher. */
@Injectable()
export class NotificationsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly dispatcher: OutboxDispatcher,
  ) {}

  /**
   * Writes the message inside `manager`'s transaction, so it exists if and only if the caller's
   * change commits. Call `dispatchSoon()` after the commit.
   */
  async enqueue(manager: EntityManager, message: OutgoingMessage): Promise<void> {
    const rendered = renderTemplate(message.template, message.locale, message.channel, message.params);
    await manager.insert(OutboxMessage, {
      userId: message.userId,
      channel: message.channel,
      recipient: message.to,
      template: message.template,
      subject: rendered.subject,
      textBody: rendered.text,
      htmlBody: rendered.html ?? null,
    });
  }

  /** Outside a transaction: write and deliver. */
  async send(message: OutgoingMessage): Promise<void> {
    await this.enqueue(this.dataSource.manager, message);
    this.dispatchSoon();
  }

  dispatchSoon(): void {
    this.dispatcher.wake();
  }
}
