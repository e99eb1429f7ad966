import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsUUID, Matches } from 'class-validator';
import { SECURITY_EVENT_TYPE_NAMES, SECURITY_EVENT_TYPES, SecurityEventType } from '../../../audit/security-events';
import { MAX_PAGE_SIZE, PageLimit } from './admin.dto';

const TYPES_DESCRIPTION = Object.entries(SECURITY_EVENT_TYPES)
  .map(([type, meaning]) => `- \`${type}\`: ${meaning}`)
  .join('\n');

const CURSOR = /^[1-9]\d{0,17}$/;
const cursorProperty = ApiPropertyOptional({
  description: 'The `nextCursor` of the previous page (opaque): the page after it, older events.',
  example: '1042',
});
const limitProperty = ApiPropertyOptional({ default: 20, minimum: 1, maximum: MAX_PAGE_SIZE });
const typeProperty = ApiPropertyOptional({ enum: SECURITY_EVENT_TYPE_NAMES, description: `Only events of this type:\n${TYPES_DESCRIPTION}` });

export class ListMySecurityEventsQuery {
  @typeProperty
  @IsOptional()
  @IsIn(SECURITY_EVENT_TYPE_NAMES)
  type?: SecurityEventType;

  @cursorProperty
  @IsOptional()
  @Matches(CURSOR, { message: 'cursor must be a nextCursor of this API' })
  cursor?: string;

  @limitProperty
  @PageLimit()
  limit: number = 20;
}

/** The administrator's filter: the user's own filter (type, cursor, limit) and who, by whom, when. */
export class ListSecurityEventsQuery extends ListMySecurityEventsQuery {
  @ApiPropertyOptional({ format: 'uuid', description: 'Events concerning this user (also after the account was deleted).' })
  @IsOptional()
  @IsUUID()
  userId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Events where this administrator acted on another user.' })
  @IsOptional()
  @IsUUID()
  actorId?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Events at or after this time (ISO 8601 with a zone).', example: '2030-01-01T00:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Events before this time (ISO 8601 with a zone).', example: '2030-02-01T00:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  to?: string;
}

const DETAILS = {
  type: 'object',
  additionalProperties: true,
  description: 'Small, non-secret facts (see each type); never a password, code, token or hash.',
  example: { reason: 'wrong_password' },
} as const;

export class SecurityEventDto {
  @ApiProperty({ example: '1042', description: 'Increases with every event written.' }) id: string;
  @ApiProperty({ format: 'date-time' }) occurredAt: string;
  @ApiProperty({ enum: SECURITY_EVENT_TYPE_NAMES, example: 'sign_in.failed' }) type: SecurityEventType;
  @ApiProperty({ type: String, nullable: true, format: 'uuid', description: 'The account concerned; null for a sign-in with an unknown login.' })
  userId: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    format: 'uuid',
    description: 'Who acted: the user, an administrator, or null (nobody proven: a failed sign-in; the service; the operator CLI).',
  })
  actorId: string | null;
  @ApiProperty({ type: String, nullable: true, enum: ['v1', '000', '001', '002', '003', '004'], description: 'The API the request came through.' })
  surface: string | null;
  @ApiProperty({ type: String, nullable: true, example: '203.0.113.7', description: 'Null once the account was deleted.' }) ip: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Null once the account was deleted.' }) userAgent: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'uuid', description: 'The session concerned, or the one the change was made from.' })
  sessionId: string | null;
  @ApiProperty(DETAILS) details: Record<string, unknown>;
}

export class SecurityEventPageDto {
  @ApiProperty({ type: [SecurityEventDto] }) items: SecurityEventDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next (older) page; null on the last page.', example: '1022' })
  nextCursor: string | null;
}

export class MySecurityEventDto {
  @ApiProperty({ example: '1042' }) id: string;
  @ApiProperty({ format: 'date-time' }) occurredAt: string;
  @ApiProperty({ enum: SECURITY_EVENT_TYPE_NAMES, example: 'sign_in.succeeded' }) type: SecurityEventType;
  @ApiProperty({
    type: String,
    nullable: true,
    enum: ['self', 'administrator'],
    description: '`self`: you (signed in, or with a code or link sent to you); `administrator`: an administrator; null: nobody proven (e.g. a failed sign-in).',
  })
  actor: 'self' | 'administrator' | null;
  @ApiProperty({ type: String, nullable: true, enum: ['v1', '000', '001', '002', '003', '004'] }) surface: string | null;
  @ApiProperty({ type: String, nullable: true, example: '203.0.113.7' }) ip: string | null;
  @ApiProperty({ type: String, nullable: true }) userAgent: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' }) sessionId: string | null;
  @ApiProperty({ description: 'True when the event concerns the session making this request.' }) currentSession: boolean;
  @ApiProperty(DETAILS) details: Record<string, unknown>;
}

export class MySecurityEventPageDto {
  @ApiProperty({ type: [MySecurityEventDto] }) items: MySecurityEventDto[];
  @ApiProperty({ type: String, nullable: true, example: '1022' }) nextCursor: string | null;
}
