import { RequestContext, SecurityContext, Surface } from '../../../common/security-context';
import { Body, Controller, Header, HttpCode, Patch, UseFilters } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthService } from '../../../auth/auth.service';
import { AuthContext } from '../../../auth/sessions.service';
import { CurrentAuth, OptionalAuth } from '../../../common/auth.decorators';
import { RateLimited } from '../../../common/ip-throttler.guard';
import { Locale, RequestLocale } from '../../../common/locale';
import { PasswordRecoveryService } from '../../../credentials/password-recovery.service';
import { jsonValue } from '../api-error-responses';
import { ApiMePasswordErrors, MePasswordErrorFilter, missingField } from './me-password-error.filter';
import { MePasswordDto, MePasswordTimeoutDto } from './me-password.dto';

/** Document 004: `PATCH /me/password`, a change with a token or a two-step SMS recovery without one. */
@ApiTags('legacy 004: password')
@Surface('004')
@Controller('me')
@UseFilters(MePasswordErrorFilter)
export class MePasswordController {
  constructor(
    private readonly auth: AuthService,
    private readonly recovery: PasswordRecoveryService,
  ) {}

  @Patch('password')
  @OptionalAuth()
  @RateLimited()
  @HttpCode(200)
  @Header('Content-Type', 'application/json; charset=utf-8')
  @ApiOperation({
    operationId: 'legacy004_changePassword',
    summary: 'Change the password (with a token) or recover it by SMS (without one)',
    description:
      'With a token: `{password, newPassword}` → `null`; every other session ends. `password` is the current account password, never an app password (21014). ' +
      'Without a token, in two steps: `{phone}` sends an SMS code → `{"timeout": 30}`; then `{phone, code, password}` sets the new password and ends every session → `{"timeout": n}` (seconds until another code may be sent). ' +
      'Unknown phone numbers are answered like known ones. SMS delivery is asynchronous with retries, so a gateway failure (21012) is never reported here.',
  })
  @ApiBody({
    type: MePasswordDto,
    examples: {
      change: { summary: 'With a token', value: { password: 'the current password', newPassword: 'a new long passphrase' } },
      sendCode: { summary: 'Without a token, step 1', value: { phone: 79991234567 } },
      reset: { summary: 'Without a token, step 2', value: { phone: 79991234567, code: '123456', password: 'a new long passphrase' } },
    },
  })
  @ApiOkResponse({
    description: 'With a token: `null`. Without: `{"timeout": n}`.',
    content: {
      'application/json': {
        schema: {
          type: 'object',
          nullable: true,
          properties: { timeout: { type: 'integer', nullable: true, description: 'Seconds until another code may be sent.' } },
          description: 'null with a token; `{"timeout": n}` without.',
        },
        examples: { change: { value: null }, recovery: { value: { timeout: 30 } } },
      },
    },
  })
  @ApiMePasswordErrors(400, 401, 403, 429, 500, 503)
  async changePassword(
    @CurrentAuth() auth: AuthContext | undefined,
    @Body() body: MePasswordDto,
    @RequestContext() context: SecurityContext,
    @RequestLocale() locale?: Locale,
  ): Promise<string> {
    if (auth) {
      if (body.password === undefined) throw missingField('password');
      if (body.newPassword === undefined) throw missingField('newPassword');
      await this.auth.changePassword(auth.user, auth.sessionId, body.password, body.newPassword, locale, context);
      return jsonValue(null);
    }
    if (body.phone === undefined) throw missingField('phone');
    const phone = { phone: body.phone };
    if (body.code === undefined && body.password === undefined) {
      const { retryAfterSeconds } = await this.recovery.request(phone, { locale });
      return timeout(retryAfterSeconds);
    }
    if (body.code === undefined) throw missingField('code');
    if (body.password === undefined) throw missingField('password');
    await this.recovery.resetWithCode(phone, body.code, body.password, locale, context);
    return timeout(await this.recovery.cooldownLeft(phone));
  }
}

function timeout(seconds: number): string {
  return JSON.stringify({ timeout: seconds } satisfies MePasswordTimeoutDto);
}
