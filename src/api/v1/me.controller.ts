import { RequestContext, SecurityContext, Surface } from '../../common/security-context';
import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Put, UseFilters } from '@nestjs/common';
import { ApiAcceptedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RateLimited } from '../../common/ip-throttler.guard';
import { AuthService } from '../../auth/auth.service';
import { AuthContext, SessionsService } from '../../auth/sessions.service';
import { Authenticated, CurrentAuth } from '../../common/auth.decorators';
import { Locale, RequestLocale } from '../../common/locale';
import { ProfileChangeLimited } from '../../limits/profile-change-limit.guard';
import { UsersService } from '../../users/users.service';
import { ContactChanges } from '../../credentials/contact-changes.service';
import { CredentialsService } from '../../credentials/credentials.service';
import { DomainError } from '../../common/domain-error';
import { maskEmail } from '../../common/identifiers';
import { ChangePasswordDto, DeleteMeDto, EmailChangeDto, PushTokenDto, UpdateMeDto } from './dto/me.dto';
import { CodeSentDto, ConfirmCodeDto } from './dto/verification.dto';
import { V1Links } from './v1.links';
import { ApiProblems } from './dto/problem.dto';
import { SessionDto, UserDto } from './dto/user.dto';
import { ProblemDetailsFilter } from './problem-details.filter';
import { presentSession, presentUser } from './v1.presenter';
import { ReadOnly } from '../../common/read-your-writes';

@ApiTags('v1 me')
@Surface('v1')
@Controller('v1/me')
@Authenticated()
@UseFilters(ProblemDetailsFilter)
export class V1MeController {
  constructor(
    private readonly users: UsersService,
    private readonly auth: AuthService,
    private readonly sessions: SessionsService,
    private readonly credentials: CredentialsService,
    private readonly contactChanges: ContactChanges,
    private readonly links: V1Links,
  ) {}

  @Get()
  @ReadOnly()
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
    summary: 'Change profile fields',
    description:
      'A new phone clears its verification, voids every outstanding code and link, tells the previous verified address, and needs fresh proof ' +
      '(`currentPassword`, or a sign-in within REAUTH_MAX_AGE: else 403 `ReauthenticationRequired`; with a second factor, aal2 within REAUTH_MAX_AGE: else 403 `StepUpRequired`). The e-mail is not changed here (400): ' +
      'use `POST /v1/me/email/change`. At most PROFILE_CHANGES_PER_HOUR (30) requests per account and hour, over every surface together, ' +
      'refused ones included (429 with Retry-After).',
  })
  @ApiOkResponse({ type: UserDto })
  @ApiProblems(400, 401, 403, 409, 429)
  async updateMe(
    @CurrentAuth() auth: AuthContext,
    @Body() body: UpdateMeDto,
    @RequestContext() context: SecurityContext,
    @RequestLocale() locale?: Locale,
  ): Promise<UserDto> {
    const { currentPassword, ...changes } = body;
    const { user } = auth;
    if (changes.email !== undefined && changes.email !== null && changes.email !== user.email) {
      throw DomainError.validation([{ field: 'email', message: 'email changes go through POST /v1/me/email/change (a code confirms the new address)' }]);
    }
    if (changes.email !== null) delete changes.email;
    const contactChange = (changes.email === null && user.email !== null) || (changes.phone !== undefined && changes.phone !== user.phone);
    const origin = { context, sessionId: auth.sessionId };
    if (contactChange) await this.credentials.requireFreshProof(user, auth, currentPassword, origin);
    return presentUser(await this.contactChanges.updateProfile(user, changes, locale, origin));
  }

  @Post('email/change')
  @RateLimited()
  @ProfileChangeLimited()
  @HttpCode(202)
  @ApiOperation({
    operationId: 'requestEmailChange',
    summary: 'Start an e-mail change: a code and a link go to the new address',
    description:
      'Needs fresh proof (`currentPassword`, or a sign-in within REAUTH_MAX_AGE; with a second factor, aal2 within REAUTH_MAX_AGE). Nothing changes until the code (`POST /v1/me/email/change/confirm`) ' +
      'or the link is used. The answer is the same when the address belongs to another account (no message goes there then). ' +
      'Once applied, the previous verified address gets a notice with a 7-day link that undoes the change. ' +
      'Counts against PROFILE_CHANGES_PER_HOUR like PATCH /v1/me, and its message against MAX_EMAILS_PER_DAY (429 with Retry-After).',
  })
  @ApiAcceptedResponse({ type: CodeSentDto })
  @ApiProblems(400, 401, 403, 429)
  async requestEmailChange(
    @CurrentAuth() auth: AuthContext,
    @Body() body: EmailChangeDto,
    @RequestContext() context: SecurityContext,
    @RequestLocale() locale?: Locale,
  ): Promise<CodeSentDto> {
    await this.credentials.requireFreshProof(auth.user, auth, body.currentPassword, { context, sessionId: auth.sessionId });
    const issued = await this.contactChanges.requestEmailChange(auth.user, body.email, { locale, link: this.links.confirmEmailChange });
    return { channel: 'email', destination: maskEmail(body.email), expiresIn: issued.codeExpiresInSeconds, retryAfter: issued.retryAfterSeconds };
  }

  @Post('email/change/confirm')
  @RateLimited()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'confirmEmailChange',
    summary: 'Apply the e-mail change with the code sent to the new address',
    description: "The new address becomes the account's, verified. Five wrong codes void it. 409 when the address was taken in the meantime.",
  })
  @ApiOkResponse({ type: UserDto })
  @ApiProblems(400, 401, 403, 409, 429)
  async confirmEmailChange(
    @CurrentAuth() { user, sessionId }: AuthContext,
    @Body() body: ConfirmCodeDto,
    @RequestContext() context: SecurityContext,
    @RequestLocale() locale?: Locale,
  ): Promise<UserDto> {
    return presentUser(await this.contactChanges.confirmEmailChange(user, body.code, locale, { context, sessionId }));
  }

  @Delete()
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted; the e-mail, phone and username are free again.' })
  @ApiOperation({
    operationId: 'deleteMe',
    summary: 'Delete the account: personal data is removed and every session ends',
    description:
      'Needs fresh proof: `currentPassword` in the body, or a sign-in within REAUTH_MAX_AGE (else 403 `ReauthenticationRequired`); ' +
      'with a second factor, aal2 within REAUTH_MAX_AGE (else 403 `StepUpRequired`: POST /v1/me/step-up).',
  })
  @ApiProblems(400, 401, 403, 429)
  async deleteMe(@CurrentAuth() auth: AuthContext, @Body() body: DeleteMeDto, @RequestContext() context: SecurityContext): Promise<void> {
    await this.credentials.requireFreshProof(auth.user, auth, body?.currentPassword, { context, sessionId: auth.sessionId });
    await this.users.delete(auth.user.id, { context });
  }

  @Put('password')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'changePassword',
    summary: 'Change the password (current one required); every other session ends',
    description: 'An account with a second factor also needs aal2 within REAUTH_MAX_AGE (403 StepUpRequired: POST /v1/me/step-up).',
  })
  @ApiNoContentResponse({ description: 'Changed.' })
  @ApiProblems(400, 401, 403, 429)
  async changePassword(
    @CurrentAuth() auth: AuthContext,
    @Body() body: ChangePasswordDto,
    @RequestContext() context: SecurityContext,
    @RequestLocale() locale?: Locale,
  ): Promise<void> {
    await this.credentials.requireStepUp(auth.user, auth);
    // A wrong current password counts toward the lockout (SPEC §9 rule 5): 429 once locked.
    await this.auth.changePassword(auth.user, auth.sessionId, body.currentPassword, body.newPassword, locale, context);
  }

  @Put('push-token')
  @HttpCode(204)
  @ApiOperation({ operationId: 'setPushToken', summary: "Store (or with null, remove) this user's device push token" })
  @ApiNoContentResponse({ description: 'Stored.' })
  @ApiProblems(400, 401, 403)
  async setPushToken(@CurrentAuth() { user }: AuthContext, @Body() body: PushTokenDto): Promise<void> {
    await this.contactChanges.updateProfile(user, { pushToken: body.token });
  }

  @Get('sessions')
  @ReadOnly()
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
  async revokeOtherSessions(@CurrentAuth() auth: AuthContext, @RequestContext() context: SecurityContext): Promise<void> {
    await this.sessions.revokeOthers(auth.user.id, auth.sessionId, 'revoked_by_user', undefined, { context, sessionId: auth.sessionId });
  }

  @Delete('sessions/:id')
  @HttpCode(204)
  @ApiOperation({ operationId: 'revokeSession', summary: 'End one of your sessions (this one included)' })
  @ApiNoContentResponse({ description: 'Revoked.' })
  @ApiProblems(400, 401, 403, 404)
  async revokeSession(
    @CurrentAuth() auth: AuthContext,
    @Param('id', new ParseUUIDPipe()) id: string,
    @RequestContext() context: SecurityContext,
  ): Promise<void> {
    await this.sessions.revoke(auth.user.id, id, 'revoked_by_user', { context });
  }
}
