import { Injectable } from '@nestjs/common';
import { Locale, resolveLocale } from '../common/locale';
import { queryRows } from '../database/sql';
import { Tx } from '../database/transactions';
import { NotificationsService } from '../notifications/notifications.service';
import { SecurityNoticeName, TemplateParams } from '../notifications/templates';
import { User } from '../users/user.entity';

/** SPEC §9 rule 3: notices of one kind to one account are coalesced, at most one per 10 minutes. */
export const NOTICE_COALESCE_SECONDS = 600;

/** Where a notice about `previous` (the account before the change) goes: its verified e-mail, else its verified phone. */
export function noticeAddress(
  previous: Pick<User, 'email' | 'emailVerifiedAt' | 'phone' | 'phoneVerifiedAt'>,
): { channel: 'email' | 'sms'; to: string } | null {
  if (previous.email && previous.emailVerifiedAt) return { channel: 'email', to: previous.email };
  if (previous.phone && previous.phoneVerifiedAt) return { channel: 'sms', to: previous.phone };
  return null;
}

/**
 * Tells the owner of an account that something security-relevant changed (SPEC §9 rule 3). A
 * notice goes only to an address the owner had proved *before* the change, never to one just set,
 * so a stolen token cannot turn notices into mail to third parties; and at most one of a kind per
 * account per 10 minutes, so a loop of changes sends one.
 */
@Injectable()
export class SecurityNotices {
  constructor(private readonly notifications: NotificationsService) {}

  /**
   * Queues the notice in the caller's transaction. Returns where it went, or null when the account
   * had no verified address or a notice of this kind went out in the last 10 minutes.
   */
  async announce(
    tx: Tx,
    previous: User,
    notice: SecurityNoticeName,
    options: {
      locale?: Locale;
      /** Built only when the notice goes out (a coalesced one makes no link). */
      params?: TemplateParams | (() => Promise<TemplateParams>);
      /** Overrides the address `noticeAddress(previous)` picks. */
      to?: { channel: 'email' | 'sms'; to: string };
    } = {},
  ): Promise<{ channel: 'email' | 'sms'; to: string } | null> {
    const address = options.to ?? noticeAddress(previous);
    if (!address) return null;
    const claimed = await queryRows(
      tx,
      `INSERT INTO send_cooldowns (purpose, target, last_sent_at) VALUES ($1, $2, now())
       ON CONFLICT (purpose, target) DO UPDATE SET last_sent_at = now()
         WHERE send_cooldowns.last_sent_at <= now() - $3 * interval '1 second'
       RETURNING 1`,
      [`notice:${notice}`, previous.id, NOTICE_COALESCE_SECONDS],
    );
    if (claimed.length === 0) return null;
    await this.notifications.enqueue(tx, {
      userId: previous.id,
      channel: address.channel,
      to: address.to,
      template: notice,
      locale: resolveLocale(previous.locale, options.locale),
      params: typeof options.params === 'function' ? await options.params() : options.params,
    });
    return address;
  }

  /** After the transaction committed: deliver now. */
  deliverSoon(): void {
    this.notifications.dispatchSoon();
  }
}
