import { Env } from '../../src/config/app-config';
import { startApp, TestApp } from './app';
import { MailServer, startMailServer } from './mail';
import { SmsReceiver, startSmsReceiver } from './sms';

export const PUBLIC_URL = 'http://id.example.test';

export interface DeliveryTestApp extends TestApp {
  /** The SMTP server the app sends to. */
  mail: MailServer;
  /** The SMS gateway the app posts to. */
  sms: SmsReceiver;
  /** Moves every live secret of the user past its expiry (instead of sleeping). */
  expireSecrets(userId: string): Promise<void>;
  /** Lets the next code to this address go out now instead of after the resend cooldown. */
  endCooldown(target: string): Promise<void>;
  /** Ends the account's daily e-mail and SMS caps now (MAX_EMAILS_PER_DAY, MAX_SMS_PER_DAY) instead of after a day. */
  endMessageCaps(userId: string): Promise<void>;
  /** The user's live secrets and how long each was stored to live (`expires_at - created_at`, in seconds). */
  secretLifetimes(userId: string): Promise<SecretLifetime[]>;
}

export interface SecretLifetime {
  purpose: string;
  kind: 'code' | 'link';
  target: string;
  seconds: number;
}

/** The app wired to a real SMTP server and SMS receiver of the test's own, with links under PUBLIC_URL. */
export async function startAppWithDelivery(env: Env = {}): Promise<DeliveryTestApp> {
  const mail = await startMailServer();
  const sms = await startSmsReceiver();
  const t = await startApp({ SMTP_URL: mail.url, SMS_WEBHOOK_URL: sms.url, PUBLIC_URL, ...env });
  const closeApp = t.close;
  return Object.assign(t, {
    mail,
    sms,
    async expireSecrets(userId: string) {
      await t.db.query(`UPDATE verification_secrets SET expires_at = now() - interval '1 second' WHERE user_id = $1`, [userId]);
    },
    async endCooldown(target: string) {
      await t.db.query(`UPDATE send_cooldowns SET last_sent_at = now() - interval '1 hour' WHERE target = $1`, [target]);
    },
    async endMessageCaps(userId: string) {
      await t.db.query(`UPDATE rate_limits SET expires_at = now() WHERE budget IN ('emails', 'sms') AND key = $1`, [userId]);
    },
    async secretLifetimes(userId: string) {
      return t.db.query(
        `SELECT purpose, kind, target, extract(epoch FROM expires_at - created_at)::float8 AS seconds
         FROM verification_secrets WHERE user_id = $1 AND consumed_at IS NULL ORDER BY purpose, kind`,
        [userId],
      );
    },
    async close() {
      await closeApp();
      await mail.close();
      await sms.close();
    },
  });
}
