import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Put, UseFilters } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthService } from '../../auth/auth.service';
import { AuthContext, SessionsService } from '../../auth/sessions.service';
import { Authenticated, CurrentAuth } from '../../common/auth.decorators';
import { Locale, RequestLocale } from '../../common/locale';
import { ProfileChangeLimited } from '../../limits/profile-change-limit.guard';
import { UsersService } from '../../users/users.service';
import { ChangePasswordDto, PushTokenDto, UpdateMeDto } from './dto/me.dto';
import { ApiProblems } from './dto/problem.dto';
import { SessionDto, UserDto } from './dto/user.dto';
import { ProblemDetailsFilter } from './problem-details.filter';
import { presentSession, presentUser } from './v1.presenter';

@ApiTags('v1 me')
@Controller('v1/me')
@Authenticated()
@UseFilters(ProblemDetailsFilter)
export class V1MeController {
  constructor(
    private readonly users: UsersService,
    private readonly auth: AuthService,
    private readonly sessions: SessionsService,
  ) {}

  @Get()
  @ApiOperation({ operationId: 'getMe', summary: 'The signed-in user' })
  @ApiOkResponse({ type: UserDto })
  @ApiProblems(401, 403)
  getMe(@CurrentAuth() { user }: AuthContext): UserDto {
    return presentUser(user);
  }

  @Patch()
  @ProfileChangeLimited()
  @ApiOperation({
    operationId: 'updateMe',
    summary: 'Change profile fields; changing the e-mail or phone clears its verification',
    description: 'At most PROFILE_CHANGES_PER_HOUR (30) requests per account and hour, over every surface together, refused ones included (429 with Retry-After).',
  })
  @ApiOkResponse({ type: UserDto })
  @ApiProblems(400, 401, 403, 409, 429)
  async updateMe(@CurrentAuth() { user }: AuthContext, @Body() body: UpdateMeDto): Promise<UserDto> {
    return presentUser(await this.users.updateProfile(user, body));
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({ operationId: 'deleteMe', summary: 'Delete the account: personal data is removed and every session ends' })
  @ApiNoContentResponse({ description: 'Deleted; the e-mail, phone and username are free again.' })
  @ApiProblems(401, 403)
  async deleteMe(@CurrentAuth() { user }: AuthContext): Promise<void> {
    await this.users.delete(user.id);
  }

  @Put('password')
  @HttpCode(204)
  @ApiOperation({ operationId: 'changePassword', summary: 'Change the password (current one required); every other session ends' })
  @ApiNoContentResponse({ description: 'Changed.' })
  @ApiProblems(400, 401, 403)
  async changePassword(@CurrentAuth() auth: AuthContext, @Body() body: ChangePasswordDto, @RequestLocale() locale?: Locale): Promise<void> {
    await this.auth.changePassword(auth.user, auth.sessionId, body.currentPassword, body.newPassword, locale);
  }

  @Put('push-token')
  @HttpCode(204)
  @ApiOperation({ operationId: 'setPushToken', summary: 'Store (or with null, remove) this user\'s device push token' })
  @ApiNoContentResponse({ description: 'Stored.' })
  @ApiProblems(400, 401, 403)
  async setPushToken(@CurrentAuth() { user }: AuthContext, @Body() body: PushTokenDto): Promise<void> {
    await this.users.updateProfile(user, { pushToken: body.token });
  }

  @Get('sessions')
  @ApiOperation({ operationId: 'listSessions', summary: 'The live sessions of the signed-in user' })
  @ApiOkResponse({ type: [SessionDto] })
  @ApiProblems(401, 403)
  async listSessions(@CurrentAuth() auth: AuthContext): Promise<SessionDto[]> {
    return (await this.sessions.list(auth.user.id)).map((session) => presentSession(session, auth.sessionId));
  }

  @Delete('sessions')
  @HttpCode(204)
  @ApiOperation({ operationId: 'revokeOtherSessions', summary: 'Sign out everywhere else: every session but this one ends' })
  @ApiNoContentResponse({ description: 'Revoked.' })
  @ApiProblems(401, 403)
  async revokeOtherSessions(@CurrentAuth() auth: AuthContext): Promise<void> {
    await this.sessions.revokeOthers(auth.user.id, auth.sessionId, 'revoked_by_user');
  }

  @Delete('sessions/:id')
  @HttpCode(204)
  @ApiOperation({ operationId: 'revokeSession', summary: 'End one of your sessions (this one included)' })
  @ApiNoContentResponse({ description: 'Revoked.' })
  @ApiProblems(400, 401, 403, 404)
  async revokeSession(@CurrentAuth() auth: AuthContext, @Param('id', new ParseUUIDPipe()) id: string): Promise<void> {
    await this.sessions.revoke(auth.user.id, id, 'revoked_by_user');
  }
}
