import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { Locale } from '../common/locale';
import { LimitsService } from '../limits/limits.service';
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
  /**
   * What happens when the account's daily cap (MAX_EMAILS_PER_DAY / MAX_SMS_PER_DAY) or the global
   * SMS budget is spent. `refuse`: throw RateLimited (429 with Retry-After), for messages the caller
   * asked for, such as a code. `drop` (default): the message is not written and a warning is logged,
   * for notices, which must never make the change they report fail.
   */
  whenCapped?: 'refuse' | 'drop';
}

/**
 * The one way anything leaves the service: rendered into the outbox, delivered by the dispatcher.
 * Every message counts against the caps of the account it concerns and, for SMS, the global
 * hourly budget (SPEC §9 rule 5), in the same transaction as the message.
 */
@Injectable()
export class NotificationsService {
  private readonly logger = new Logger('Notifications');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly dispatcher: OutboxDispatcher,
    private readonly limits: LimitsService,
  ) {}

  /**
   * Writes the message inside `manager`'s transaction, so it exists (and counts against the caps)
   * if and only if the caller's change commits. Call `dispatchSoon()` after the commit. Answers
   * false when a cap dropped the message (see `whenCapped`).
   */
  async enqueue(manager: EntityManager, message: OutgoingMessage): Promise<boolean> {
    const cap = await this.limits.consumeMessage(manager, message.userId, message.channel);
    if (!cap.allowed) {
      if (message.whenCapped === 'refuse') throw this.limits.refusal(cap.budget, cap);
      this.logger.warn(
        { userId: message.userId, channel: message.channel, template: message.template, budget: cap.budget },
        'message cap reached: message dropped',
      );
      return false;
    }
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
    return true;
  }

  /**
   * Counts a message that is deliberately not written (its answer must look like one that was)
   * against the caps of `userId`, in `manager`'s transaction: throws RateLimited at a cap.
   */
  async charge(manager: EntityManager, userId: string, channel: MessageChannel): Promise<void> {
    const cap = await this.limits.consumeMessage(manager, userId, channel);
    if (!cap.allowed) throw this.limits.refusal(cap.budget, cap);
  }

  /** Outside a transaction: write (with its cap count, in a transaction of its own) and deliver. */
  async send(message: OutgoingMessage): Promise<boolean> {
    const queued = await this.dataSource.transaction((manager) => this.enqueue(manager, message));
    if (queued) this.dispatchSoon();
    return queued;
  }

  dispatchSoon(): void {
    this.dispatcher.wake();
  }
}
