import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiProperty, ApiPropertyOptional, ApiResponse, getSchemaPath } from '@nestjs/swagger';

export class FieldErrorDto {
  @ApiProperty({ example: 'email' }) field: string;
  @ApiProperty({ example: 'email must be an email' }) message: string;
}

export class ProblemDto {
  @ApiProperty({ example: 'urn:problem:identity:invalid-credentials' }) type: string;
  @ApiProperty({ example: 'Invalid credentials' }) title: string;
  @ApiProperty({ example: 401 }) status: number;
  @ApiProperty({ example: 'wrong login or password' }) detail: string;
  @ApiProperty({ example: 'InvalidCredentials', description: 'Machine-readable error kind.' }) code: string;
  @ApiPropertyOptional({ example: '/v1/auth/login' }) instance?: string;
  @ApiPropertyOptional({ type: [FieldErrorDto], description: 'Per-field problems of a 400.' }) errors?: FieldErrorDto[];
}

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input (validation, malformed JSON, password policy, a wrong or expired code, a passkey response that does not verify).',
  401: 'Missing, invalid or revoked credentials; a wrong second factor (WrongSecondFactor); a challenge that is unknown, expired, used or out of tries (MfaChallengeInvalid).',
  403: 'Not allowed (role, blocked account, wrong current password, no fresh proof: ReauthenticationRequired, or StepUpRequired for an account with a second factor).',
  404: 'Not found.',
  409: 'Conflict: e-mail, username or phone already in use, already verified, a factor already enrolled (AlreadyEnrolled), or no second factor to act on (NoSecondFactor).',
  429: 'Too many attempts or requests (per address or per account), a code sent too recently, or the account\'s daily message cap reached; the Retry-After header says when to try again.',
};

/** Documents the RFC 9457 problem responses an operation can return. */
export const ApiProblems = (...statuses: number[]) =>
  applyDecorators(
    ApiExtraModels(ProblemDto),
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: DESCRIPTIONS[status] ?? 'Error.',
        content: { 'application/problem+json': { schema: { $ref: getSchemaPath(ProblemDto) } } },
      }),
    ),
  );
