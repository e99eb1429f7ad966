import { Surface, RequestContext, SecurityContext } from '../../../common/security-context';
import { Body, Controller, Get, HttpCode, Param, Post, UseFilters } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { AuthService } from '../../../auth/auth.service';
import { AuthContext } from '../../../auth/sessions.service';
import { Authenticated, CurrentAuth, Public } from '../../../common/auth.decorators';
import { WithoutDatabase } from '../../../common/openapi.decorators';
import { RateLimited, SignInRateLimited } from '../../../common/ip-throttler.guard';
import { Locale, RequestLocale } from '../../../common/locale';
import { UsersService } from '../../../users/users.service';
import { ContactVerificationService } from '../../../verification/contact-verification.service';
import { PasswordRecoveryService } from '../../../credentials/password-recovery.service';
import { ApiUserAccountErrors, ApiUserAccountTokenErrors, UserAccountErrorFilter } from './user-account-error.filter';
import {
  UserAccountLoggedInDto,
  UserAccountLoginDto,
  UserAccountMessageDto,
  UserAccountProfileSettingsDto,
  UserAccountRegistrationDto,
  UserAccountResetPasswordDto,
  UserAccountResetPasswordRequestDto,
  UserAccountServiceInfoDto,
} from './user-account.dto';
import { UserAccountLinks } from './user-account.links';
import {
  CHECK_EMAIL,
  CONFIRM_TOKEN_INVALID,
  EMAIL_CONFIRMED,
  LOGGED_OUT,
  PASSWORD_RESET,
  presentLogin,
  presentProfileSettings,
  presentServiceInfo,
  registrationOf,
  RESET_TOKEN_INVALID,
} from './user-account.presenter';
import { ReadOnly, ReadOnlyWhenSuccessful } from '../../../common/read-your-writes';

const tokenParam = ApiParam({ name: 'token', description: 'The token from the e-mailed link.', example: 'q3Jx0mV1c2VkLXRva2VuLWV4YW1wbGUtNDMtY2hhcnM' });
const okMessage = (msg: string, description: string) => ApiOkResponse({ type: UserAccountMessageDto, description, example: { status: 'OK', msg } });

/** Document 003: user_account endpoints under /api/ (`{"status":"OK"|"ERR","msg":…,"data"?:…}`). */
@ApiTags('legacy 003: user account')
@Surface('003')
@Controller()
@UseFilters(new UserAccountErrorFilter())
export class UserAccountController {
  constructor(
    private readonly users: UsersService,
    private readonly auth: AuthService,
    private readonly contacts: ContactVerificationService,
    private readonly recovery: PasswordRecoveryService,
    private readonly links: UserAccountLinks,
  ) {}

  @Get()
  @Public()
  @WithoutDatabase()
  @ReadOnly()
  @ApiOperation({ operationId: 'legacy003_root', summary: 'The service name and version (same answer as GET /api/)' })
  @ApiOkResponse({ type: UserAccountServiceInfoDto, description: 'The service name and its package.json version.' })
  root(): UserAccountServiceInfoDto {
    return presentServiceInfo();
  }

  @Get('api')
  @Public()
  @WithoutDatabase()
  @ReadOnly()
  @ApiOperation({ operationId: 'legacy003_apiRoot', summary: 'The service name and version (same answer as GET /)' })
  @ApiOkResponse({ type: UserAccountServiceInfoDto, description: 'The service name and its package.json version.' })
  apiRoot(): UserAccountServiceInfoDto {
    return presentServiceInfo();
  }

  @Post('api/login')
  @ReadOnlyWhenSuccessful()
  @Public()
  @SignInRateLimited()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'legacy003_login',
    summary: 'Sign in with the username or e-mail; the token lives as long as its session',
    description:
      'No refresh on this surface: the token lives REFRESH_TOKEN_TTL, or REMEMBER_ME_TTL with `remember`. Ten failed sign-ins in a row lock the account (429, Retry-After).' +
      ' An account with a second factor signs in here with an app password (POST /v1/me/app-passwords) instead of its account password, which is refused (401 with a hint).',
  })
  @ApiOkResponse({ type: UserAccountLoggedInDto, description: 'Signed in: a new session and its token.' })
  @ApiUserAccountErrors(400, 401, 403, 429)
  async login(@Body() body: UserAccountLoginDto, @RequestContext() client: SecurityContext): Promise<UserAccountLoggedInDto> {
    return presentLogin(
      await this.auth.signIn({
        identifier: body.username,
        password: body.pwd,
        remember: body.remember,
        accessLivesAsLongAsSession: true,
        secondFactor: 'app-password',
        ...client,
      }),
    );
  }

  @Post('api/registration')
  @Public()
  @RateLimited()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'legacy003_registration',
    summary: 'Create an account and e-mail a confirmation link',
    description:
      "The link points to GET /api/confirm_email/{token} under PUBLIC_URL and is valid for 24 hours. The Accept-Language becomes the account's language.",
  })
  @okMessage(CHECK_EMAIL.msg, 'Registered; the confirmation link is on its way.')
  @ApiUserAccountErrors(400, 409, 429)
  async registration(
    @Body() body: UserAccountRegistrationDto,
    @RequestContext() context: SecurityContext,
    @RequestLocale() locale?: Locale,
  ): Promise<UserAccountMessageDto> {
    const user = await this.auth.register(registrationOf(body, locale), { context });
    await this.contacts.welcome(user, { code: false, link: this.links.confirmEmail });
    return CHECK_EMAIL;
  }

  @Post('api/reset_password_request')
  @Public()
  @RateLimited()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'legacy003_resetPasswordRequest',
    summary: 'E-mail a password reset link, if the account exists',
    description:
      "The username, e-mail or phone; the link (valid for 1 hour) goes to the account's e-mail and points to /api/reset_password/{token} under PUBLIC_URL. " +
      'The answer is the same whether or not the account exists (SPEC §6: no "user not found"), also during the one-minute resend cooldown (429).',
  })
  @okMessage(CHECK_EMAIL.msg, 'Always, whether or not the account exists.')
  @ApiUserAccountErrors(400, 429)
  async resetPasswordRequest(@Body() body: UserAccountResetPasswordRequestDto, @RequestLocale() locale?: Locale): Promise<UserAccountMessageDto> {
    await this.recovery.request({ login: body.username }, { code: false, link: this.links.resetPassword, locale });
    return CHECK_EMAIL;
  }

  @Get('api/confirm_email/:token')
  @Public()
  @UseFilters(new UserAccountErrorFilter({ InvalidCode: CONFIRM_TOKEN_INVALID }))
  @tokenParam
  @ApiOperation({ operationId: 'legacy003_confirmEmail', summary: 'Confirm the e-mail address with the e-mailed link (works once)' })
  @okMessage(EMAIL_CONFIRMED.msg, 'The address is confirmed.')
  @ApiUserAccountTokenErrors(CONFIRM_TOKEN_INVALID, 400)
  async confirmEmail(@Param('token') token: string, @RequestContext() context: SecurityContext): Promise<UserAccountMessageDto> {
    await this.contacts.confirmEmailLink(token, { context });
    return EMAIL_CONFIRMED;
  }

  @Post('api/reset_password/:token')
  @Public()
  @RateLimited()
  @HttpCode(200)
  @UseFilters(new UserAccountErrorFilter({ InvalidCode: RESET_TOKEN_INVALID }))
  @tokenParam
  @ApiOperation({
    operationId: 'legacy003_resetPassword',
    summary: 'Set a new password with the e-mailed link; every session ends',
    description: 'A password that fails the policy is refused (400) before the link is used, so the link still works.',
  })
  @okMessage(PASSWORD_RESET.msg, 'The new password is set; every session of the account has ended.')
  @ApiUserAccountTokenErrors(RESET_TOKEN_INVALID, 400, 429)
  async resetPassword(
    @Param('token') token: string,
    @Body() body: UserAccountResetPasswordDto,
    @RequestContext() context: SecurityContext,
    @RequestLocale() locale?: Locale,
  ): Promise<UserAccountMessageDto> {
    await this.recovery.resetWithLink(token, body.new_pwd, locale, context);
    return PASSWORD_RESET;
  }

  @Get('api/profile_settings')
  @ReadOnly()
  @Authenticated()
  @ApiOperation({ operationId: 'legacy003_profileSettings', summary: 'The profile: e-mail masked, password as "********"' })
  @ApiOkResponse({ type: UserAccountProfileSettingsDto, description: 'The signed-in account.' })
  @ApiUserAccountErrors(401, 403)
  profileSettings(@CurrentAuth() { user }: AuthContext): UserAccountProfileSettingsDto {
    return presentProfileSettings(user);
  }

  @Get('api/logout')
  @Authenticated()
  @ApiOperation({
    operationId: 'legacy003_logout',
    summary: 'End this session: its token stops working at once',
    description: 'The document shows `"status": "1234"`; the status is "OK" (SPEC §7).',
  })
  @okMessage(LOGGED_OUT.msg, 'This session has ended.')
  @ApiUserAccountErrors(401, 403)
  async logout(@CurrentAuth() { user, sessionId }: AuthContext, @RequestContext() context: SecurityContext): Promise<UserAccountMessageDto> {
    await this.auth.signOut(user, sessionId, context);
    return LOGGED_OUT;
  }
}
