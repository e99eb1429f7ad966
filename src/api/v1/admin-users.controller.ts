import { RequestContext, SecurityContext, Surface } from '../../common/security-context';
import { Body, Controller, Get, Param, ParseUUIDPipe, Patch, Query, UseFilters } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthService } from '../../auth/auth.service';
import { AuthContext } from '../../auth/sessions.service';
import { Authenticated, CurrentAuth } from '../../common/auth.decorators';
import { UsersService } from '../../users/users.service';
import { AdminUpdateUserDto, ListUsersQuery } from './dto/admin.dto';
import { ApiProblems } from './dto/problem.dto';
import { UserDto, UserPageDto } from './dto/user.dto';
import { ProblemDetailsFilter } from './problem-details.filter';
import { presentUser } from './v1.presenter';
import { ReadOnly } from '../../common/read-your-writes';

@ApiTags('v1 admin')
@Surface('v1')
@Controller('v1/admin/users')
@Authenticated('administrator')
@UseFilters(ProblemDetailsFilter)
export class V1AdminUsersController {
  constructor(
    private readonly users: UsersService,
    private readonly auth: AuthService,
  ) {}

  @Get()
  @ReadOnly()
  @ApiOperation({ operationId: 'adminListUsers', summary: 'List users, newest first: search, filter by role or status, paginate (at most 100 a page)' })
  @ApiOkResponse({ type: UserPageDto })
  @ApiProblems(400, 401, 403)
  async list(@Query() query: ListUsersQuery): Promise<UserPageDto> {
    const [users, total] = await this.users.list({ ...query, offset: (query.page - 1) * query.limit });
    return { items: users.map(presentUser), total, page: query.page, limit: query.limit };
  }

  @Get(':id')
  @ReadOnly()
  @ApiOperation({ operationId: 'adminGetUser', summary: 'One user' })
  @ApiOkResponse({ type: UserDto })
  @ApiProblems(400, 401, 403, 404)
  async get(@Param('id', new ParseUUIDPipe()) id: string): Promise<UserDto> {
    return presentUser(await this.users.get(id));
  }

  @Patch(':id')
  @ApiOperation({ operationId: 'adminUpdateUser', summary: "Change a user's role or status; blocking ends every session of the user" })
  @ApiOkResponse({ type: UserDto })
  @ApiProblems(400, 401, 403, 404)
  async update(
    @CurrentAuth() admin: AuthContext,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() body: AdminUpdateUserDto,
    @RequestContext() context: SecurityContext,
  ): Promise<UserDto> {
    return presentUser(await this.auth.setRoleAndStatus(id, body, { context, actorId: admin.user.id }));
  }
}
