import { RequestContext, SecurityContext, Surface } from '../../common/security-context';
import { Body, Controller, Get, HttpCode, Post, Query, UseFilters } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { AuthContext } from '../../auth/sessions.service';
import { Authenticated, CurrentAuth, Public } from '../../common/auth.decorators';
import { maskEmail, maskPhone } from '../../common/identifiers';
import { RateLimited } from '../../common/ip-throttler.guard';
import { Locale, RequestLocale } from '../../common/locale';
import { ContactChanges } from '../../credentials/contact-changes.service';
import { PasswordRecoveryService } from '../../credentials/password-recovery.service';
import { DomainError } from '../../common/domain-error';
import { ContactVerificationService } from '../../verification/contact-verification.service';
import { ApiProblems } from './dto/problem.dto';
import { UserDto } from './dto/user.dto';
import { CodeSentDto, ConfirmCodeDto, EmailConfirmedDto, EmailRestoredDto } from './dto/verification.dto';
import { ProblemDetailsFilter } from './problem-details.filter';
import { V1Links } from './v1.links';
import { presentUser } from './v1.presenter';

@ApiTags('v1 verification')
@Surface('v1')
@Controller('v1')
@UseFilters(ProblemDetailsFilter)
export class V1VerificationController {
  constructor(
    private readonly contacts: ContactVerificationService,
    private readonly contactChanges: ContactChanges,
    private readonly recovery: PasswordRecoveryService,
    private readonly links: V1Links,
  ) {}

  @Post('me/email/verification')
  @Authenticated()
  @RateLimited()
  @HttpCode(202)
  @ApiOperation({
    operationId: 'requestEmailVerification',
    summary: "E-mail a 6-digit code and a confirmation link to the account's address",
    description: 'A new code voids the previous one. One request per 60 s (EMAIL_RESEND_COOLDOWN); the code lives 10 minutes, the link 24 hours.',
  })
  @ApiAcceptedResponse({ type: CodeSentDto })
  @ApiProblems(400, 401, 403, 409, 429)
  async requestEmail(@CurrentAuth() { user }: AuthContext, @RequestLocale() locale?: Locale): Promise<CodeSentDto> {
    const issued = await this.contacts.requestEmail(user, { locale, link: this.links.confirmEmail });
    return { channel: 'email', destination: maskEmail(user.email!), expiresIn: issued.codeExpiresInSeconds, retryAfter: issued.retryAfterSeconds };
  }

  @Post('me/email/verification/confirm')
  @Authenticated()
  @RateLimited()
  @HttpCode(200)
  @ApiOperation({ operationId: 'confirmEmail', summary: 'Confirm the e-mail with the code; sets emailVerifiedAt', description: 'Five wrong codes void it.' })
  @ApiOkResponse({ type: UserDto })
  @ApiProblems(400, 401, 403, 429)
  async confirmEmail(
    @CurrentAuth() { user, sessionId }: AuthContext,
    @Body() body: ConfirmCodeDto,
    @RequestContext() context: SecurityContext,
  ): Promise<UserDto> {
    return presentUser(await this.contacts.confirmEmailCode(user, body.code, { context, sessionId }));
  }

  @Get('auth/email/confirm')
  @Public()
  @RateLimited()
  @ApiOperation({
    operationId: 'confirmEmailLink',
    summary: 'The e-mailed confirmation link: confirms the address it was sent to',
    description: 'Single use; no sign-in needed. Refused if the account changed its e-mail since.',
  })
  @ApiQuery({ name: 'token', required: true, description: 'The token from the link.' })
  @ApiOkResponse({ type: EmailConfirmedDto })
  @ApiProblems(400, 429)
  async confirmEmailLink(@Query('token') token: unknown, @RequestContext() context: SecurityContext): Promise<EmailConfirmedDto> {
    const user = await this.contacts.confirmEmailLink(typeof token === 'string' ? token : '', { context });
    return { email: maskEmail(user.email!), emailVerifiedAt: user.emailVerifiedAt!.toISOString() };
  }

  @Get('auth/email/change/confirm')
  @Public()
  @RateLimited()
  @ApiOperation({
    operationId: 'confirmEmailChangeLink',
    summary: 'The link sent to a new address: applies the e-mail change',
    description: 'Single use; no sign-in needed. The previous verified address is told, with a 7-day link that undoes the change.',
  })
  @ApiQuery({ name: 'token', required: true, description: 'The token from the link.' })
  @ApiOkResponse({ type: EmailConfirmedDto })
  @ApiProblems(400, 409, 429)
  async confirmEmailChangeLink(
    @Query('token') token: unknown,
    @RequestContext() context: SecurityContext,
    @RequestLocale() locale?: Locale,
  ): Promise<EmailConfirmedDto> {
    const user = await this.contactChanges.confirmEmailChangeLink(typeof token === 'string' ? token : '', locale, { context });
    return { email: maskEmail(user.email!), emailVerifiedAt: user.emailVerifiedAt!.toISOString() };
  }

  @Get('auth/email/revert')
  @Public()
  @RateLimited()
  @ApiOperation({
    operationId: 'revertEmailChange',
    summary: '"This wasn\'t me": the link in an e-mail-changed notice',
    description:
      'Restores the previous address (unless another account took it since), ends every session of the account and e-mails a password reset link ' +
      'to that address. Single use; lives 7 days; later changes do not void it.',
  })
  @ApiQuery({ name: 'token', required: true, description: 'The token from the link.' })
  @ApiOkResponse({ type: EmailRestoredDto })
  @ApiProblems(400, 429)
  async revertEmailChange(
    @Query('token') token: unknown,
    @RequestContext() context: SecurityContext,
    @RequestLocale() locale?: Locale,
  ): Promise<EmailRestoredDto> {
    const { email, restored } = await this.contactChanges.revertEmailChange(typeof token === 'string' ? token : '', { context });
    if (!restored) {
      return { email: maskEmail(email), message: 'Every session has ended. The address now belongs to another account, so it could not be restored.' };
    }
    try {
      await this.recovery.request({ email }, { locale, link: this.links.resetPassword });
    } catch (error) {
      // A reset message went there moments ago: that one serves.
      if (!(error instanceof DomainError && error.kind === 'ResendTooSoon')) throw error;
    }
    return { email: maskEmail(email), message: 'The address is restored, every session has ended, and a password reset link is on its way there.' };
  }

  @Post('me/phone/verification')
  @Authenticated()
  @RateLimited()
  @HttpCode(202)
  @ApiOperation({
    operationId: 'requestPhoneVerification',
    summary: "Send a 6-digit code by SMS to the account's phone",
    description: 'A new code voids the previous one. One request per 30 s (SMS_RESEND_COOLDOWN); the code lives 10 minutes.',
  })
  @ApiAcceptedResponse({ type: CodeSentDto })
  @ApiProblems(400, 401, 403, 409, 429)
  async requestPhone(@CurrentAuth() { user }: AuthContext, @RequestLocale() locale?: Locale): Promise<CodeSentDto> {
    const issued = await this.contacts.requestPhone(user, locale);
    return { channel: 'sms', destination: maskPhone(user.phone!), expiresIn: issued.codeExpiresInSeconds, retryAfter: issued.retryAfterSeconds };
  }

  @Post('me/phone/verification/confirm')
  @Authenticated()
  @RateLimited()
  @HttpCode(200)
  @ApiOperation({ operationId: 'confirmPhone', summary: 'Confirm the phone with the SMS code; sets phoneVerifiedAt', description: 'Five wrong codes void it.' })
  @ApiOkResponse({ type: UserDto })
  @ApiProblems(400, 401, 403, 429)
  async confirmPhone(
    @CurrentAuth() { user, sessionId }: AuthContext,
    @Body() body: ConfirmCodeDto,
    @RequestContext() context: SecurityContext,
  ): Promise<UserDto> {
    return presentUser(await this.contacts.confirmPhoneCode(user, body.code, { context, sessionId }));
  }
}
