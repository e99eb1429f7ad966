import { Inject, Injectable } from '@nestjs/common';
import { generateSecret, generateURI, verifySync } from 'otplib';
import { toString as qrCodeSvg } from 'qrcode';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { DomainError } from '../common/domain-error';
import { Tx } from '../database/transactions';
import { Credential } from '../credentials/credential.entity';
import { FactorsRepository, isEnrolmentConflict } from '../credentials/factors.repository';
import { User } from '../users/user.entity';
import { SecretBox } from './secret-box.service';

/** RFC 6238 with the defaults every authenticator app knows: SHA-1, 6 digits, 30-second steps. */
export const TOTP_PERIOD_SECONDS = 30;
/** A code of the step before or after the current one is accepted too (clock drift of ±1 step). */
const DRIFT_SECONDS = TOTP_PERIOD_SECONDS;
/** How long a started enrolment waits for its first code. */
export const TOTP_ENROLMENT_TTL_SECONDS = 900;

export interface TotpEnrolment {
  /** Base32, for typing into an app by hand. */
  secret: string;
  /** `otpauth://totp/…`, what the QR code holds. */
  uri: string;
  /** The URI as a QR code: an SVG data URI. */
  qrCode: string;
  expiresAt: Date;
}

/** What an account is called in an authenticator app: its e-mail, else username, else phone. */
function accountLabel(user: User): string {
  return user.email ?? user.username ?? user.phone ?? user.id;
}

/**
 * TOTP (RFC 6238) with otplib: enrolment (a secret sealed in the database until the first code
 * confirms it), and codes accepted once each: a code's time step must be later than the last one
 * accepted, checked and stored in one statement.
 */
@Injectable()
export class TotpService {
  constructor(
    private readonly factors: FactorsRepository,
    private readonly box: SecretBox,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async startEnrolment(user: User): Promise<TotpEnrolment> {
    if (await this.factors.findTotp(user.id, 'totp')) throw this.alreadyEnrolled();
    const secret = generateSecret({ length: 20 });
    const pending = await this.factors.savePendingTotp(user.id, this.box.seal(secret, context(user.id)));
    const uri = generateURI({ issuer: this.config.mfa.issuer, label: accountLabel(user), secret });
    const svg = await qrCodeSvg(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    return {
      secret,
      uri,
      qrCode: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`,
      expiresAt: new Date(pending.createdAt.getTime() + TOTP_ENROLMENT_TTL_SECONDS * 1000),
    };
  }

  /** The first code confirms the enrolment: the pending secret becomes the account's TOTP (its step used). */
  async confirmEnrolment(tx: Tx, user: User, code: string): Promise<Credential> {
    const pending = await this.factors.findTotp(user.id, 'totp-pending', tx);
    const live = pending && Date.now() - pending.createdAt.getTime() <= TOTP_ENROLMENT_TTL_SECONDS * 1000;
    const step = live ? this.match(user.id, pending.secret!, code, null) : null;
    if (step === null) throw new DomainError('InvalidCode', 'the code is wrong, or the enrolment expired (start it again)');
    try {
      const totp = await this.factors.activateTotp(tx, pending!.id, step);
      if (!totp) throw new DomainError('InvalidCode', 'the enrolment expired (start it again)');
      return totp;
    } catch (error) {
      if (isEnrolmentConflict(error)) throw this.alreadyEnrolled();
      throw error;
    }
  }

  /** Whether `code` is a good, not yet used code of the account's TOTP; a good one is used up. */
  async verify(tx: Tx, userId: string, code: string): Promise<boolean> {
    const totp = await this.factors.findTotp(userId, 'totp', tx);
    if (!totp?.secret) return false;
    const step = this.match(userId, totp.secret, code, totp.counter === null ? null : Number(totp.counter));
    return step !== null && (await this.factors.acceptTotpStep(tx, totp.id, step));
  }

  /** The time step `code` belongs to (current ±1), later than `afterStep`; null when none. */
  private match(userId: string, sealed: string, code: string, afterStep: number | null): number | null {
    try {
      const secret = this.box.open(sealed, context(userId));
      const result = verifySync({ secret, token: code, epochTolerance: DRIFT_SECONDS, ...(afterStep === null ? {} : { afterTimeStep: afterStep }) });
      return result.valid && 'timeStep' in result ? result.timeStep : null;
    } catch {
      // Not 6 digits, a step stored from the future (the clock went back), or a secret that does not open.
      return null;
    }
  }

  private alreadyEnrolled(): DomainError {
    return new DomainError('AlreadyEnrolled', 'this account has an authenticator app already; remove it first to set up another');
  }
}

/** The associated data a TOTP secret is sealed with: it opens only in its owner's row. */
function context(userId: string): string {
  return `totp:${userId}`;
}
