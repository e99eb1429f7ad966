import { RequestContext, SecurityContext, Surface } from '../../common/security-context';
import { Body, Controller, Get, HttpCode, Post, Query, UseFilters } from '@nestjs/common';
import { ApiAcceptedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Public } from '../../common/auth.decorators';
import { RateLimited } from '../../common/ip-throttler.guard';
import { Locale, RequestLocale } from '../../common/locale';
import { PasswordRecoveryService, RecoveryAddress } from '../../credentials/password-recovery.service';
import { ApiProblems } from './dto/problem.dto';
import { ForgotPasswordDto, RecoveryRequestedDto, ResetLinkStatusDto, ResetPasswordDto } from './dto/verification.dto';
import { ProblemDetailsFilter } from './problem-details.filter';
import { V1Links } from './v1.links';

@ApiTags('v1 password recovery')
@Surface('v1')
@Controller('v1/auth/password')
@Public()
@UseFilters(ProblemDetailsFilter)
export class V1PasswordRecoveryController {
  constructor(
    private readonly recovery: PasswordRecoveryService,
    private readonly links: V1Links,
  ) {}

  @Post('forgot')
  @RateLimited()
  @HttpCode(202)
  @ApiOperation({
    operationId: 'forgotPassword',
    summary: 'Send a reset code and link by e-mail, or a code by SMS',
    description:
      'Answers the same whether or not an account has this address (and for blocked accounts), including the 429 of the resend cooldown (60 s e-mail, 30 s SMS), so it cannot be used to find accounts. The code lives 10 minutes, the link 1 hour.',
  })
  @ApiAcceptedResponse({ type: RecoveryRequestedDto })
  @ApiProblems(400, 429)
  async forgot(@Body() body: ForgotPasswordDto, @RequestLocale() locale?: Locale): Promise<RecoveryRequestedDto> {
    const issued = await this.recovery.request(addressOf(body)!, { locale, link: this.links.resetPassword });
    return { message: 'If an account with this address exists, a message is on its way.', retryAfter: issued.retryAfterSeconds };
  }

  @Post('reset')
  @RateLimited()
  @HttpCode(204)
  @ApiOperation({
    operationId: 'resetPassword',
    summary: "Set a new password with the code (plus the e-mail or phone) or with the link's token",
    description: 'Every session of the account ends. A password that fails the policy is refused before the code is used.',
  })
  @ApiNoContentResponse({ description: 'The password is set; sign in again.' })
  @ApiProblems(400, 429)
  async reset(@Body() body: ResetPasswordDto, @RequestContext() context: SecurityContext, @RequestLocale() locale?: Locale): Promise<void> {
    if (body.token !== undefined) {
      await this.recovery.resetWithLink(body.token, body.password, locale, context);
    } else {
      await this.recovery.resetWithCode(addressOf(body)!, body.code!, body.password, locale, context);
    }
  }

  @Get('reset')
  @RateLimited()
  @ApiOperation({
    operationId: 'checkResetLink',
    summary: 'The e-mailed reset link: tells whether its token is still good, without using it',
    description: 'A frontend opens this first, then asks for the new password and posts it with the token to POST /v1/auth/password/reset.',
  })
  @ApiQuery({ name: 'token', required: true })
  @ApiOkResponse({ type: ResetLinkStatusDto })
  @ApiProblems(400, 429)
  async checkLink(@Query('token') token: unknown): Promise<ResetLinkStatusDto> {
    const { expiresAt } = await this.recovery.checkResetLink(typeof token === 'string' ? token : '');
    return { valid: true, expiresAt: expiresAt.toISOString() };
  }
}

function addressOf(body: { email?: string; phone?: string }): RecoveryAddress | undefined {
  if (body.email !== undefined) return { email: body.email };
  if (body.phone !== undefined) return { phone: body.phone };
  return undefined;
}
