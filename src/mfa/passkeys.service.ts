import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { Tx } from '../database/transactions';
import { Credential } from '../credentials/credential.entity';
import { FactorsRepository } from '../credentials/factors.repository';
import { User } from '../users/user.entity';
import { CHALLENGE_TTL_SECONDS } from './challenge-state';

/** A verified registration, ready to store. */
export interface NewPasskey {
  /** The credential id (base64url): the row's subject. */
  subject: string;
  /** The COSE public key (base64url): the row's secret (public, but nothing to show). */
  publicKey: string;
  counter: number;
  details: { transports: string[]; aaguid: string; deviceType: string; backedUp: boolean };
}

/** The WebAuthn user handle of an account: its id's 16 bytes (no personal data), base64url. */
export function userHandleOf(userId: string): string {
  return Buffer.from(userId.replace(/-/g, ''), 'hex').toString('base64url');
}

/**
 * WebAuthn ceremonies with @simplewebauthn/server for the relying party WEBAUTHN_RP_ID, accepting
 * WEBAUTHN_ORIGINS. Registrations ask for a discoverable credential (a passkey that can sign in
 * without a password) and take `none` attestation: the key is trusted because a signed-in,
 * freshly proven user registers it, not because of its maker. An assertion is good only when its
 * signature counter moves forward (or stays 0 on authenticators that keep none): a counter that
 * does not grow is a cloned authenticator, refused and logged.
 */
@Injectable()
export class PasskeysService {
  private readonly logger = new Logger('Passkeys');

  constructor(
    private readonly factors: FactorsRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  registrationOptions(user: User, existing: Credential[]): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const name = user.email ?? user.username ?? user.phone ?? user.id;
    return generateRegistrationOptions({
      rpName: this.config.mfa.issuer,
      rpID: this.config.mfa.rpId,
      userName: name,
      userDisplayName: name,
      userID: Buffer.from(user.id.replace(/-/g, ''), 'hex'),
      attestationType: 'none',
      excludeCredentials: existing.map((passkey) => ({ id: passkey.subject!, transports: transportsOf(passkey) })),
      authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'preferred' },
      timeout: CHALLENGE_TTL_SECONDS * 1000,
    });
  }

  /** The new passkey, or null when the response does not verify against `expectedChallenge`, the origins and the relying party. */
  async verifyRegistration(response: RegistrationResponseJSON, expectedChallenge: string): Promise<NewPasskey | null> {
    try {
      const verification = await verifyRegistrationResponse({
        response,
        expectedChallenge,
        expectedOrigin: this.config.mfa.origins,
        expectedRPID: this.config.mfa.rpId,
        requireUserVerification: false,
      });
      if (!verification.verified) return null;
      const { credential, aaguid, credentialDeviceType, credentialBackedUp } = verification.registrationInfo;
      return {
        subject: credential.id,
        publicKey: Buffer.from(credential.publicKey).toString('base64url'),
        counter: credential.counter,
        details: { transports: credential.transports ?? [], aaguid, deviceType: credentialDeviceType, backedUp: credentialBackedUp },
      };
    } catch (error) {
      this.logger.debug({ reason: (error as Error).message }, 'passkey registration refused');
      return null;
    }
  }

  /**
   * Options for an assertion: for `allow` (a second step: the account's passkeys, user presence
   * enough), or for any discoverable passkey (`allow` empty: a sign-in without password, which
   * needs user verification).
   */
  authenticationOptions(allow: Credential[], userVerification: 'required' | 'preferred'): Promise<PublicKeyCredentialRequestOptionsJSON> {
    return generateAuthenticationOptions({
      rpID: this.config.mfa.rpId,
      allowCredentials: allow.map((passkey) => ({ id: passkey.subject!, transports: transportsOf(passkey) })),
      userVerification,
      timeout: CHALLENGE_TTL_SECONDS * 1000,
    });
  }

  /**
   * Whether `response` is a good assertion of `passkey` for `expectedChallenge`; a good one
   * records its counter in `tx`. With `requireUserVerification`, the authenticator must have
   * verified the user (PIN, biometrics): a passkey alone is then two factors.
   */
  async verifyAssertion(
    tx: Tx,
    passkey: Credential,
    response: AuthenticationResponseJSON,
    expectedChallenge: string,
    requireUserVerification: boolean,
  ): Promise<boolean> {
    const stored = Number(passkey.counter ?? 0);
    let counter: number;
    try {
      const verification = await verifyAuthenticationResponse({
        response,
        expectedChallenge,
        expectedOrigin: this.config.mfa.origins,
        expectedRPID: this.config.mfa.rpId,
        credential: { id: passkey.subject!, publicKey: Buffer.from(passkey.secret!, 'base64url'), counter: stored, transports: transportsOf(passkey) },
        requireUserVerification,
      });
      if (!verification.verified) return false;
      counter = verification.authenticationInfo.newCounter;
    } catch (error) {
      const reason = (error as Error).message;
      if (/counter/i.test(reason))
        this.logger.warn(
          { credentialId: passkey.id, userId: passkey.userId, storedCounter: stored },
          'passkey counter did not grow: possibly a cloned authenticator; refused',
        );
      return false;
    }
    if (await this.factors.acceptPasskeyCounter(tx, passkey.id, counter)) return true;
    this.logger.warn(
      { credentialId: passkey.id, userId: passkey.userId, storedCounter: stored, counter },
      'passkey counter did not grow: possibly a cloned authenticator; refused',
    );
    return false;
  }
}

function transportsOf(passkey: Credential): any[] | undefined {
  const transports = passkey.details?.transports;
  return Array.isArray(transports) && transports.length ? transports : undefined;
}
