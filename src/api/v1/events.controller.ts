import { Controller, Get, Query, UseFilters } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditLog } from '../../audit/audit-log.service';
import { AuthContext } from '../../auth/sessions.service';
import { Authenticated, CurrentAuth } from '../../common/auth.decorators';
import { Surface } from '../../common/security-context';
import { ListMySecurityEventsQuery, ListSecurityEventsQuery, MySecurityEventPageDto, SecurityEventPageDto } from './dto/events.dto';
import { ApiProblems } from './dto/problem.dto';
import { ProblemDetailsFilter } from './problem-details.filter';
import { presentEvent, presentMyEvent } from './v1.presenter';

const PAGING = 'Newest first, at most `limit` (≤ 100) a page; `nextCursor` leads to the next, older page. Events are kept AUDIT_RETENTION_DAYS (365) days.';

@ApiTags('v1 admin')
@Surface('v1')
@Controller('v1/admin/events')
@Authenticated('administrator')
@UseFilters(ProblemDetailsFilter)
export class V1AdminEventsController {
  constructor(private readonly audit: AuditLog) {}

  @Get()
  @ApiOperation({
    operationId: 'adminListSecurityEvents',
    summary: 'The audit log: security events of every user, filtered by user, actor, type and time',
    description: `${PAGING} The events of a deleted account stay, without its IP addresses, user agents and contact addresses.`,
  })
  @ApiOkResponse({ type: SecurityEventPageDto })
  @ApiProblems(400, 401, 403)
  async list(@Query() query: ListSecurityEventsQuery): Promise<SecurityEventPageDto> {
    const page = await this.audit.list({
      ...query,
      from: query.from === undefined ? undefined : new Date(query.from),
      to: query.to === undefined ? undefined : new Date(query.to),
    });
    return { items: page.items.map(presentEvent), nextCursor: page.nextCursor };
  }
}

@ApiTags('v1 me')
@Surface('v1')
@Controller('v1/me/events')
@Authenticated()
@UseFilters(ProblemDetailsFilter)
export class V1MyEventsController {
  constructor(private readonly audit: AuditLog) {}

  @Get()
  @ApiOperation({
    operationId: 'listMySecurityEvents',
    summary: 'Your recent security events: sign-ins (also failed ones), sessions ended, password and contact changes…',
    description: PAGING,
  })
  @ApiOkResponse({ type: MySecurityEventPageDto })
  @ApiProblems(400, 401, 403)
  async list(@CurrentAuth() auth: AuthContext, @Query() query: ListMySecurityEventsQuery): Promise<MySecurityEventPageDto> {
    const page = await this.audit.list({ ...query, userId: auth.user.id });
    return { items: page.items.map((event) => presentMyEvent(event, auth.sessionId)), nextCursor: page.nextCursor };
  }
}
