import { Logger } from '@nestjs/common';
import { createTransport, Transporter } from 'nodemailer';
import { MessageChannel } from './outbox-message.entity';

/** What a channel is handed: one rendered message to one recipient. */
export interface Delivery {
  channel: MessageChannel;
  to: string;
  subject: string | null;
  text: string;
  html: string | null;
}

/** One way out (SMTP, an SMS gateway, the log). `deliver` resolves once the far side accepted the message. */
export interface DeliveryChannel {
  readonly description: string;
  deliver(message: Delivery): Promise<void>;
  close?(): void;
}

/** Longest a single delivery may take; well under the dispatcher's claim lease, so a slow send is never sent twice. */
export const DELIVERY_TIMEOUT_MS = 15_000;

/** E-mail over SMTP (`SMTP_URL`, `MAIL_FROM`). */
export class SmtpChannel implements DeliveryChannel {
  readonly description: string;
  private readonly transport: Transporter;

  constructor(
    smtpUrl: string,
    private readonly from: string,
  ) {
    const url = new URL(smtpUrl);
    this.description = `SMTP ${url.hostname}:${url.port || (url.protocol === 'smtps:' ? 465 : 587)}`;
    this.transport = createTransport({
      url: smtpUrl,
      connectionTimeout: 5_000,
      greetingTimeout: 5_000,
      socketTimeout: DELIVERY_TIMEOUT_MS,
    } as Parameters<typeof createTransport>[0]);
  }

  async deliver(message: Delivery): Promise<void> {
    await this.transport.sendMail({
      from: this.from,
      to: message.to,
      subject: message.subject ?? undefined,
      text: message.text,
      html: message.html ?? undefined,
    });
  }

  close(): void {
    this.transport.close();
  }
}

/** SMS through the gateway webhook: POST `{"to","text"}` as JSON; any non-2xx answer is a failure to retry. */
export class SmsWebhookChannel implements DeliveryChannel {
  readonly description: string;

  constructor(private readonly url: string) {
    this.description = `SMS webhook ${new URL(url).host}`;
  }

  async deliver(message: Delivery): Promise<void> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ to: message.to, text: message.text }),
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
    await response.arrayBuffer().catch(() => undefined);
    if (!response.ok) throw new Error(`SMS gateway answered HTTP ${response.status}`);
  }
}

/**
 * Development delivery when SMTP_URL / SMS_WEBHOOK_URL are unset: the whole message goes to the
 * log, so `npm start` alone is enough to read codes and links. Never use it in production.
 */
export class LogChannel implements DeliveryChannel {
  readonly description: string;
  private readonly logger = new Logger('Outbox');

  constructor(private readonly channel: MessageChannel) {
    this.description = `the log (${channel === 'email' ? 'SMTP_URL' : 'SMS_WEBHOOK_URL'} is unset)`;
  }

  async deliver(message: Delivery): Promise<void> {
    this.logger.log(
      { delivery: 'log', channel: this.channel, to: message.to, subject: message.subject },
      `${this.channel === 'email' ? 'E-mail' : 'SMS'} to ${message.to} (written to the log because ${this.channel === 'email' ? 'SMTP_URL' : 'SMS_WEBHOOK_URL'} is unset):\n${message.text}`,
    );
  }
}
