import { RequestContext, SecurityContext, Surface } from '../../../common/security-context';
import { Body, Controller, Header, HttpCode, Post, UseFilters } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthContext } from '../../../auth/sessions.service';
import { Authenticated, CurrentAuth, OptionalAuth, Public } from '../../../common/auth.decorators';
import { DomainError } from '../../../common/domain-error';
import { RateLimited } from '../../../common/ip-throttler.guard';
import { Locale, RequestLocale } from '../../../common/locale';
import { ContactChanges } from '../../../credentials/contact-changes.service';
import { ProfileChangeLimited } from '../../../limits/profile-change-limit.guard';
import { UsersService } from '../../../users/users.service';
import { PasswordRecoveryService } from '../../../credentials/password-recovery.service';
import { ApiProfileRpcErrors, ProfileRpcErrorFilter } from './profile-rpc-error.filter';
import {
  ProfileRpcForgottenPasswordDto,
  ProfileRpcProfileDto,
  ProfileRpcProfileUpdateDto,
  ProfileRpcResetPasswordDto,
  ProfileRpcSetPushTokenDto,
} from './profile-rpc.dto';
import { CODE_SENT, DONE, presentProfile, profileChanges } from './profile-rpc.presenter';

const JSON_TYPE = 'application/json; charset=utf-8';
const stringAnswer = (example: string) => ApiOkResponse({ schema: { type: 'string', example } });

/** Document 000: the profile RPC under /api/users (every operation is a POST). */
@ApiTags('legacy 000: profile RPC')
@Surface('000')
@Controller('api/users')
@UseFilters(ProfileRpcErrorFilter)
export class ProfileRpcController {
  constructor(
    private readonly users: UsersService,
    private readonly contactChanges: ContactChanges,
    private readonly recovery: PasswordRecoveryService,
  ) {}

  @Post('profile')
  @Authenticated()
  @ProfileChangeLimited()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'legacy000_profile',
    summary: 'Read the profile (empty body) or change the fields sent, and return the profile',
    description:
      'Changing the e-mail or phone clears its verification. `phone` may be a number; it is stored and returned in E.164. ' +
      'Requests with fields count against PROFILE_CHANGES_PER_HOUR (30) per account and hour, over every surface together (429 with Retry-After).',
  })
  @ApiOkResponse({ type: ProfileRpcProfileDto })
  @ApiProfileRpcErrors(400, 401, 403, 409, 429)
  async profile(
    @CurrentAuth() { user, sessionId }: AuthContext,
    @Body() body: ProfileRpcProfileUpdateDto,
    @RequestContext() context: SecurityContext,
    @RequestLocale() locale?: Locale,
  ): Promise<ProfileRpcProfileDto> {
    const changes = profileChanges(body);
    return presentProfile(Object.keys(changes).length ? await this.contactChanges.updateProfile(user, changes, locale, { context, sessionId }) : user);
  }

  @Post('sendCode')
  @Authenticated()
  @HttpCode(200)
  @Header('Content-Type', JSON_TYPE)
  @ApiOperation({ operationId: 'legacy000_sendCode', summary: 'E-mail a code for changing the password (used by resetPassword with a bearer token)' })
  @stringAnswer('code send on your email')
  @ApiProfileRpcErrors(400, 401, 403, 429)
  async sendCode(@CurrentAuth() { user }: AuthContext, @RequestLocale() locale?: Locale): Promise<string> {
    await this.recovery.requestChangeCode(user, locale);
    return CODE_SENT;
  }

  @Post('forgotenPassword')
  @Public()
  @RateLimited()
  @HttpCode(200)
  @Header('Content-Type', JSON_TYPE)
  @ApiOperation({
    operationId: 'legacy000_forgotenPassword',
    summary: 'E-mail a password reset code, if an account has this address',
    description: 'Always "DONE!", whether or not the account exists, and also while a code sent less than a minute ago is still the latest.',
  })
  @stringAnswer('DONE!')
  @ApiProfileRpcErrors(400)
  async forgottenPassword(@Body() body: ProfileRpcForgottenPasswordDto, @RequestLocale() locale?: Locale): Promise<string> {
    try {
      await this.recovery.request({ email: body.email }, { locale, code: true });
    } catch (error) {
      // The document promises "DONE!" every time; during the cooldown no new code goes out.
      if (!(error instanceof DomainError && error.kind === 'ResendTooSoon')) throw error;
    }
    return DONE;
  }

  @Post('resetPassword')
  @OptionalAuth()
  @RateLimited()
  @HttpCode(200)
  @Header('Content-Type', JSON_TYPE)
  @ApiOperation({
    operationId: 'legacy000_resetPassword',
    summary: 'Set a new password with an e-mailed code',
    description:
      'With a bearer token: `{password, code}`, the code from sendCode; the other sessions end. ' +
      'Without one: `{email, password, code}`, the code from forgotenPassword; every session ends.',
  })
  @stringAnswer('DONE!')
  @ApiProfileRpcErrors(400, 401, 403, 429)
  async resetPassword(
    @CurrentAuth() auth: AuthContext | undefined,
    @Body() body: ProfileRpcResetPasswordDto,
    @RequestContext() context: SecurityContext,
    @RequestLocale() locale?: Locale,
  ): Promise<string> {
    if (auth) {
      await this.recovery.changeWithCode(auth.user, auth.sessionId, body.code, body.password, locale, context);
    } else if (body.email) {
      await this.recovery.resetWithCode({ email: body.email }, body.code, body.password, locale, context);
    } else {
      throw DomainError.validation([{ field: 'email', message: 'email is required without a bearer token' }]);
    }
    return DONE;
  }

  @Post('setPushToken')
  @Authenticated()
  @HttpCode(200)
  @Header('Content-Type', JSON_TYPE)
  @ApiOperation({ operationId: 'legacy000_setPushToken', summary: 'Store the device push token (returned as `token` in the profile)' })
  @stringAnswer('DONE!')
  @ApiProfileRpcErrors(400, 401, 403)
  async setPushToken(@CurrentAuth() { user }: AuthContext, @Body() body: ProfileRpcSetPushTokenDto): Promise<string> {
    await this.users.updateProfile(user, { pushToken: body.token });
    return DONE;
  }
}
