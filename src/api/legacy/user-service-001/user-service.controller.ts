import { Surface, RequestContext, SecurityContext } from '../../../common/security-context';
import { applyDecorators, Body, Controller, Get, HttpCode, Param, Post, Put, UseFilters } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { AuthService } from '../../../auth/auth.service';
import { AuthContext } from '../../../auth/sessions.service';
import { Authenticated, CurrentAuth, Public } from '../../../common/auth.decorators';
import { RateLimited, SignInRateLimited } from '../../../common/ip-throttler.guard';
import { UuidParams } from '../../../common/uuid-route';
import { Locale, RequestLocale } from '../../../common/locale';
import { ProfileChangeLimited } from '../../../limits/profile-change-limit.guard';
import { UsersService } from '../../../users/users.service';
import { ApiUserServiceErrors, UserServiceErrorFilter } from './user-service-error.filter';
import {
  UserServiceLoggedInDto,
  UserServiceLoginDto,
  UserServiceRegisteredDto,
  UserServiceRegisterDto,
  UserServiceSuccessDto,
  UserServiceUpdateUserDto,
  UserServiceUserEnvelopeDto,
} from './user-service.dto';
import { accountChanges, presentLogin, presentRegistered, presentUser, SUCCESS } from './user-service.presenter';
import { ReadOnly, ReadOnlyWhenSuccessful } from '../../../common/read-your-writes';

/** `/{user_id}` sits at the root, so it only matches a UUID: `/favicon.ico` and the like never reach this controller. */
const USER_ID_ROUTE = ':userId';
const userIdParam = applyDecorators(UuidParams('userId'), ApiParam({ name: 'userId', example: 'e5f8433e-76a9-4509-87f0-e1b12354d92b' }));

/** Document 001: the user service (`/auth/register`, `/auth/login`, `/{user_id}`). */
@ApiTags('legacy 001: user service')
@Surface('001')
@Controller()
@UseFilters(UserServiceErrorFilter)
export class UserServiceController {
  constructor(
    private readonly users: UsersService,
    private readonly auth: AuthService,
  ) {}

  @Post('auth/register')
  @Public()
  @RateLimited()
  @ApiOperation({ operationId: 'legacy001_register', summary: 'Create an account; sends nothing (SPEC §6)' })
  @ApiCreatedResponse({ type: UserServiceRegisteredDto })
  @ApiUserServiceErrors(400, 409)
  async register(
    @Body() body: UserServiceRegisterDto,
    @RequestContext() context: SecurityContext,
    @RequestLocale() locale?: Locale,
  ): Promise<UserServiceRegisteredDto> {
    return presentRegistered(await this.auth.register({ ...accountChanges(body), password: body.password, locale: locale ?? null }, { context }));
  }

  @Post('auth/login')
  @ReadOnlyWhenSuccessful()
  @Public()
  @SignInRateLimited()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'legacy001_login',
    summary: 'Sign in with the e-mail or username; the token lives as long as its session',
    description:
      '`token-expiry` is in seconds: REFRESH_TOKEN_TTL, or REMEMBER_ME_TTL with `remember_me`. There is no refresh on this surface.' +
      ' An account with a second factor signs in here with an app password (POST /v1/me/app-passwords) instead of its account password, which is refused (401 with a hint).',
  })
  @ApiOkResponse({ type: UserServiceLoggedInDto })
  @ApiUserServiceErrors(400, 401, 403, 429)
  async login(@Body() body: UserServiceLoginDto, @RequestContext() client: SecurityContext): Promise<UserServiceLoggedInDto> {
    return presentLogin(
      await this.auth.signIn({
        identifier: body.email_or_name,
        password: body.password,
        remember: body.remember_me,
        accessLivesAsLongAsSession: true,
        secondFactor: 'app-password',
        ...client,
      }),
    );
  }

  @Get(USER_ID_ROUTE)
  @ReadOnly()
  @Authenticated()
  @userIdParam
  @ApiOperation({ operationId: 'legacy001_getUser', summary: 'A user: yourself, or anyone for an administrator' })
  @ApiOkResponse({ type: UserServiceUserEnvelopeDto })
  @ApiUserServiceErrors(401, 403, 404)
  async getUser(@CurrentAuth() { user }: AuthContext, @Param('userId') userId: string): Promise<UserServiceUserEnvelopeDto> {
    return presentUser(await this.users.getManaged(user, userId.toLowerCase()));
  }

  @Put(USER_ID_ROUTE)
  @Authenticated()
  @ProfileChangeLimited()
  @userIdParam
  @ApiOperation({
    operationId: 'legacy001_updateUser',
    summary: 'Change a user: yourself, or anyone for an administrator',
    description:
      'Only the fields sent change. A new e-mail is unconfirmed again (`user_role` "Not_Verifyed"). A new password ends every other session of the user (all of them when an administrator sets it). ' +
      "Each request counts against the caller's PROFILE_CHANGES_PER_HOUR (30) per hour, over every surface together (429 with Retry-After).",
  })
  @ApiOkResponse({ type: UserServiceSuccessDto })
  @ApiUserServiceErrors(400, 401, 403, 404, 409, 429)
  async updateUser(
    @CurrentAuth() auth: AuthContext,
    @Param('userId') userId: string,
    @Body() body: UserServiceUpdateUserDto,
    @RequestContext() context: SecurityContext,
    @RequestLocale() locale?: Locale,
  ): Promise<UserServiceSuccessDto> {
    const target = await this.users.getManaged(auth.user, userId.toLowerCase());
    const own = target.id === auth.user.id;
    const keepSessionId = own ? auth.sessionId : undefined;
    // An administrator editing someone else is the actor of that user's events (and their session is not that user's).
    const origin = own ? { context, sessionId: auth.sessionId } : { context, actorId: auth.user.id };
    await this.auth.updateAccount(target, accountChanges(body), { password: body.password, keepSessionId, locale, origin });
    return SUCCESS;
  }
}
