import { StoredEvent } from '../../audit/audit-log.service';
import { Session } from '../../auth/session.entity';
import { SessionTokens } from '../../auth/sessions.service';
import { displayFullName, User } from '../../users/user.entity';
import { SessionDto, UserDto } from './dto/user.dto';
import { LoginResponseDto, TokenPairDto } from './dto/auth.dto';
import { MySecurityEventDto, SecurityEventDto } from './dto/events.dto';
import { SignInOutcome } from '../../auth/auth.service';
import { IssuedAccessToken } from '../../auth/token.service';
import { Credential } from '../../credentials/credential.entity';
import { StartedChallenge } from '../../mfa/mfa-challenges.service';
import { Enrolled, FactorOverview } from '../../mfa/second-factors.service';
import { AppPasswordDto, EnrolledFactorDto, FactorDto, FactorsDto, MfaChallengeDto, StepUpResultDto, WebAuthnRequestOptionsDto } from './dto/mfa.dto';

/** Domain → /v1 shapes. Explicit field by field, so no secret column can leak. */
export function presentUser(user: User): UserDto {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    emailVerified: !!user.emailVerifiedAt,
    phone: user.phone,
    phoneVerified: !!user.phoneVerifiedAt,
    name: user.name,
    surname: user.surname,
    patronymic: user.patronymic,
    fullName: displayFullName(user),
    address: user.address,
    contacts: user.contacts,
    cityId: user.cityId,
    userType: user.userType,
    role: user.role,
    status: user.status,
    authClient: user.authClient,
    autoUpdating: user.autoUpdating,
    autoPaying: user.autoPaying,
    locale: user.locale,
    emailVerifiedAt: user.emailVerifiedAt?.toISOString() ?? null,
    phoneVerifiedAt: user.phoneVerifiedAt?.toISOString() ?? null,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
  };
}

export function presentTokens({ access, refreshToken, session }: SessionTokens): TokenPairDto {
  return {
    accessToken: access.token,
    tokenType: 'Bearer',
    expiresIn: access.expiresIn,
    refreshToken,
    refreshExpiresIn: Math.max(0, Math.floor((session.expiresAt.getTime() - Date.now()) / 1000)),
    sessionId: session.id,
  };
}

export function presentSession(session: Session, currentSessionId: string): SessionDto {
  return {
    id: session.id,
    current: session.id === currentSessionId,
    userAgent: session.userAgent,
    ip: session.ip,
    createdAt: session.createdAt.toISOString(),
    lastUsedAt: session.lastUsedAt.toISOString(),
    expiresAt: session.expiresAt.toISOString(),
    amr: session.amr,
    aal: session.aal === 2 ? 'aal2' : 'aal1',
    appPasswordId: session.credentialId,
  };
}

/** A login's answer: the pair and the user, or (an account with a second factor) the challenge. */
export function presentLogin(outcome: SignInOutcome): LoginResponseDto | MfaChallengeDto {
  if (outcome.kind === 'second-factor') return presentChallenge(outcome);
  return { ...presentTokens(outcome), user: presentUser(outcome.user) };
}

export function presentChallenge(challenge: StartedChallenge): MfaChallengeDto {
  return {
    mfaRequired: true,
    challengeId: challenge.challengeId,
    methods: challenge.methods,
    expiresIn: secondsUntil(challenge.expiresAt),
    webauthn: challenge.webauthn as WebAuthnRequestOptionsDto | null,
  };
}

export function presentFactor(credential: Credential): FactorDto {
  return {
    id: credential.id,
    type: credential.type === 'webauthn' ? 'passkey' : 'totp',
    name: credential.name,
    createdAt: credential.createdAt.toISOString(),
    lastUsedAt: credential.lastUsedAt?.toISOString() ?? null,
  };
}

export function presentFactors(overview: FactorOverview): FactorsDto {
  return {
    enabled: overview.factors.length > 0,
    factors: overview.factors.map(presentFactor),
    recoveryCodesLeft: overview.recoveryCodesLeft,
    appPasswords: overview.appPasswords,
  };
}

export function presentEnrolled({ factor, recoveryCodes }: Enrolled): EnrolledFactorDto {
  return { factor: presentFactor(factor), recoveryCodes };
}

export function presentAppPassword(credential: Credential): AppPasswordDto {
  return {
    id: credential.id,
    name: credential.name ?? '',
    createdAt: credential.createdAt.toISOString(),
    lastUsedAt: credential.lastUsedAt?.toISOString() ?? null,
  };
}

export function presentStepUp({ session, access }: { session: Session; access: IssuedAccessToken }): StepUpResultDto {
  return { accessToken: access.token, tokenType: 'Bearer', expiresIn: access.expiresIn, sessionId: session.id, acr: 'aal2' };
}

/** Whole seconds until `date` (a challenge made a moment ago for 300 s says 300). */
export function secondsUntil(date: Date): number {
  return Math.max(0, Math.round((date.getTime() - Date.now()) / 1000));
}

export function presentEvent(event: StoredEvent): SecurityEventDto {
  return {
    id: event.id,
    occurredAt: event.occurredAt.toISOString(),
    type: event.type,
    userId: event.userId,
    actorId: event.actorId,
    surface: event.surface,
    ip: event.ip,
    userAgent: event.userAgent,
    sessionId: event.sessionId,
    details: event.details,
  };
}

/** A user's own event: who acted is said as `self` or `administrator`, never as another account's id. */
export function presentMyEvent(event: StoredEvent, currentSessionId: string): MySecurityEventDto {
  const actor = event.actorId === null ? null : event.actorId === event.userId ? 'self' : 'administrator';
  return {
    id: event.id,
    occurredAt: event.occurredAt.toISOString(),
    type: event.type,
    actor,
    surface: event.surface,
    ip: event.ip,
    userAgent: event.userAgent,
    sessionId: event.sessionId,
    currentSession: event.sessionId !== null && event.sessionId === currentSessionId,
    details: event.details,
  };
}
