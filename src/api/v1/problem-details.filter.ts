import { Catch } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { DomainError, DomainErrorKind } from '../../common/domain-error';
import { httpStatusOf } from '../../common/failure';
import { ErrorReply, SurfaceErrorFilter } from '../surface-error.filter';

/** The /v1 error table: domain error kind → RFC 9457 title (the status is shared: HTTP_STATUS). */
export const PROBLEM_TITLES: Record<DomainErrorKind, string> = {
  ValidationFailed: 'Invalid request',
  MalformedBody: 'Malformed request body',
  IdentifierRequired: 'Identifier required',
  InvalidPhone: 'Invalid phone number',
  InvalidUsername: 'Invalid username',
  WeakPassword: 'Password does not meet the policy',
  Unauthenticated: 'Authentication required',
  InvalidCredentials: 'Invalid credentials',
  InvalidToken: 'Invalid access token',
  InvalidRefreshToken: 'Invalid refresh token',
  SessionRevoked: 'Session ended',
  WrongPassword: 'Wrong current password',
  ReauthenticationRequired: 'Fresh proof required',
  StepUpRequired: 'Second factor required',
  AppPasswordRequired: 'App password required',
  MfaChallengeInvalid: 'Challenge expired or used',
  WrongSecondFactor: 'Wrong second factor',
  AlreadyEnrolled: 'Already enrolled',
  NoSecondFactor: 'No second factor',
  PasskeyRejected: 'Passkey not accepted',
  AccountBlocked: 'Account blocked',
  Forbidden: 'Forbidden',
  NotFound: 'Not found',
  UserNotFound: 'User not found',
  EmailTaken: 'E-mail already registered',
  UsernameTaken: 'Username already taken',
  PhoneTaken: 'Phone already registered',
  AccountLocked: 'Account temporarily locked',
  RateLimited: 'Too many requests',
  InvalidCode: 'Invalid or expired code',
  ContactMissing: 'Nothing to send the code to',
  AlreadyVerified: 'Already verified',
  ResendTooSoon: 'Code sent too recently',
  ServiceUnavailable: 'Service temporarily unavailable',
  HttpError: 'Bad request',
};

/** Framework-level errors (`HttpError`) are titled by their status. */
const HTTP_ERROR_TITLES: Record<number, string> = {
  400: 'Bad request',
  404: 'Not found',
  405: 'Method not allowed',
  413: 'Payload too large',
  414: 'URI too long',
  415: 'Unsupported media type',
  431: 'Request header fields too large',
};

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** The machine-readable error kind, e.g. `InvalidCredentials`. */
  code: string;
  instance?: string;
  errors?: { field: string; message: string }[];
}

export function problemFor(error: DomainError, instance?: string): ProblemDetails {
  const status = httpStatusOf(error);
  const slug = error.kind.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();
  return {
    type: `urn:problem:identity:${slug}`,
    title: error.kind === 'HttpError' ? (HTTP_ERROR_TITLES[status] ?? 'Bad request') : PROBLEM_TITLES[error.kind],
    status,
    detail: error.message,
    code: error.kind,
    ...(instance ? { instance } : {}),
    ...(error.details.fields ? { errors: error.details.fields } : {}),
  };
}

/** RFC 9457 `application/problem+json` for /v1 and for everything outside the legacy surfaces. */
@Catch()
export class ProblemDetailsFilter extends SurfaceErrorFilter {
  protected override readonly contentType = 'application/problem+json; charset=utf-8';

  protected render(error: DomainError, request: FastifyRequest): ErrorReply {
    const problem = problemFor(error, request.url.split('?')[0]);
    return { status: problem.status, body: problem };
  }

  protected renderInternal(): ErrorReply {
    return {
      status: 500,
      body: { type: 'about:blank', title: 'Internal Server Error', status: 500, detail: 'Something went wrong on our side.', code: 'Internal' },
    };
  }
}
