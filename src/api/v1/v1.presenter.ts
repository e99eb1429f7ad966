import { StoredEvent } from '../../audit/audit-log.service';
import { Session } from '../../auth/session.entity';
import { SessionTokens } from '../../auth/sessions.service';
import { displayFullName, User } from '../../users/user.entity';
import { SessionDto, UserDto } from './dto/user.dto';
import { TokenPairDto } from './dto/auth.dto';
import { MySecurityEventDto, SecurityEventDto } from './dto/events.dto';

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
  };
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
