import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, UseFilters } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthContext } from '../../auth/sessions.service';
import { Authenticated, CurrentAuth } from '../../common/auth.decorators';
import { RequestContext, SecurityContext, Surface } from '../../common/security-context';
import { AppPasswords } from '../../mfa/app-passwords.service';
import { SecondFactors } from '../../mfa/second-factors.service';
import {
  AppPasswordDto,
  ConfirmTotpDto,
  CreateAppPasswordDto,
  EnrolledFactorDto,
  FactorDto,
  FactorsDto,
  NewAppPasswordDto,
  PasskeyRegistrationOptionsDto,
  PasskeyRegistrationRequestDto,
  RecoveryCodesDto,
  RegenerateRecoveryCodesDto,
  RegisterPasskeyDto,
  RemoveFactorDto,
  RenameFactorDto,
  StartTotpDto,
  TotpEnrolmentDto,
  WebAuthnCreationOptionsDto,
} from './dto/mfa.dto';
import { ApiProblems } from './dto/problem.dto';
import { ProblemDetailsFilter } from './problem-details.filter';
import { presentAppPassword, presentEnrolled, presentFactor, presentFactors, secondsUntil } from './v1.presenter';

/**
 * What SPEC §9 rule 4 asks of every change here: the current password or a recent sign-in, and for
 * an account that has a second factor, a second factor within REAUTH_MAX_AGE.
 */
const FRESH =
  'Needs fresh proof: `currentPassword` or a sign-in within REAUTH_MAX_AGE (403 ReauthenticationRequired), and once the account has a second factor, ' +
  'aal2 within REAUTH_MAX_AGE (403 StepUpRequired: POST /v1/me/step-up).';

/** The signed-in user's second factors: TOTP, passkeys, recovery codes (issue 12). */
@ApiTags('v1 me')
@Surface('v1')
@Controller('v1/me/factors')
@Authenticated()
@UseFilters(ProblemDetailsFilter)
export class V1FactorsController {
  constructor(private readonly factors: SecondFactors) {}

  @Get()
  @ApiOperation({ operationId: 'listFactors', summary: 'The second factors of the signed-in user, the recovery codes left and the number of app passwords' })
  @ApiOkResponse({ type: FactorsDto })
  @ApiProblems(401, 403)
  async list(@CurrentAuth() { user }: AuthContext): Promise<FactorsDto> {
    return presentFactors(await this.factors.overview(user.id));
  }

  @Post('totp')
  @ApiOperation({
    operationId: 'startTotpEnrolment',
    summary: 'Start setting up an authenticator app: a secret, its otpauth:// URI and a QR code',
    description: `${FRESH} The secret is stored encrypted and waits 15 minutes for its first code (POST /v1/me/factors/totp/confirm); starting again replaces it. 409 when the account has an authenticator app already.`,
  })
  @ApiCreatedResponse({ type: TotpEnrolmentDto })
  @ApiProblems(400, 401, 403, 409, 429)
  async startTotp(@CurrentAuth() auth: AuthContext, @Body() body: StartTotpDto, @RequestContext() context: SecurityContext): Promise<TotpEnrolmentDto> {
    const enrolment = await this.factors.startTotp(auth, body?.currentPassword, context);
    return { secret: enrolment.secret, otpauthUri: enrolment.uri, qrCode: enrolment.qrCode, expiresIn: secondsUntil(enrolment.expiresAt) };
  }

  @Post('totp/confirm')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'confirmTotpEnrolment',
    summary: 'Finish setting up the authenticator app with its first code',
    description:
      "From now on sign-in asks for a second step. With the account's first factor the answer carries 10 recovery codes, shown this once. " +
      'The previous verified address gets a notice. 400 InvalidCode for a wrong code or an expired enrolment.',
  })
  @ApiOkResponse({ type: EnrolledFactorDto })
  @ApiProblems(400, 401, 403, 409)
  async confirmTotp(@CurrentAuth() auth: AuthContext, @Body() body: ConfirmTotpDto, @RequestContext() context: SecurityContext): Promise<EnrolledFactorDto> {
    return presentEnrolled(await this.factors.confirmTotp(auth, body.code, context));
  }

  @Post('passkeys/options')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'passkeyRegistrationOptions',
    summary: 'Start registering a passkey: WebAuthn creation options',
    description: `${FRESH} Pass \`publicKey\` to navigator.credentials.create, then POST the credential to /v1/me/factors/passkeys within 5 minutes (one try).`,
  })
  @ApiOkResponse({ type: PasskeyRegistrationOptionsDto })
  @ApiProblems(400, 401, 403, 429)
  async passkeyOptions(
    @CurrentAuth() auth: AuthContext,
    @Body() body: PasskeyRegistrationRequestDto,
    @RequestContext() context: SecurityContext,
  ): Promise<PasskeyRegistrationOptionsDto> {
    const registration = await this.factors.passkeyRegistrationOptions(auth, body?.currentPassword, context);
    return {
      challengeId: registration.challengeId,
      expiresIn: secondsUntil(registration.expiresAt),
      publicKey: registration.publicKey as WebAuthnCreationOptionsDto,
    };
  }

  @Post('passkeys')
  @ApiOperation({
    operationId: 'registerPasskey',
    summary: 'Register the passkey created with the options',
    description:
      "It can then sign in alone (POST /v1/auth/passkey) or answer a second step. With the account's first factor the answer carries 10 recovery codes, shown this once. " +
      'The previous verified address gets a notice. 400 PasskeyRejected when it does not verify; 401 MfaChallengeInvalid for an unknown, expired or used challenge; 409 when registered already.',
  })
  @ApiCreatedResponse({ type: EnrolledFactorDto })
  @ApiProblems(400, 401, 403, 409)
  async registerPasskey(
    @CurrentAuth() auth: AuthContext,
    @Body() body: RegisterPasskeyDto,
    @RequestContext() context: SecurityContext,
  ): Promise<EnrolledFactorDto> {
    return presentEnrolled(await this.factors.registerPasskey(auth, body.challengeId, body.name, body.credential, context));
  }

  @Patch(':id')
  @ApiOperation({ operationId: 'renameFactor', summary: 'Rename a passkey or the authenticator app' })
  @ApiOkResponse({ type: FactorDto })
  @ApiProblems(400, 401, 403, 404)
  async rename(@CurrentAuth() { user }: AuthContext, @Param('id', new ParseUUIDPipe()) id: string, @Body() body: RenameFactorDto): Promise<FactorDto> {
    return presentFactor(await this.factors.renameFactor(user, id, body.name));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'removeFactor',
    summary: 'Remove a passkey or the authenticator app',
    description: `${FRESH} The previous verified address gets a notice. Removing the last factor also removes the recovery codes and the app passwords (their sessions end).`,
  })
  @ApiNoContentResponse({ description: 'Removed.' })
  @ApiProblems(400, 401, 403, 404, 429)
  async remove(
    @CurrentAuth() auth: AuthContext,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() body: RemoveFactorDto,
    @RequestContext() context: SecurityContext,
  ): Promise<void> {
    await this.factors.removeFactor(auth, id, body?.currentPassword, context);
  }

  @Post('recovery-codes')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'regenerateRecoveryCodes',
    summary: 'Replace the recovery codes: 10 new single-use codes, shown this once',
    description: `${FRESH} The old codes stop working; the previous verified address gets a notice. 409 NoSecondFactor without a second factor.`,
  })
  @ApiOkResponse({ type: RecoveryCodesDto })
  @ApiProblems(400, 401, 403, 409, 429)
  async regenerateRecoveryCodes(
    @CurrentAuth() auth: AuthContext,
    @Body() body: RegenerateRecoveryCodesDto,
    @RequestContext() context: SecurityContext,
  ): Promise<RecoveryCodesDto> {
    return { codes: await this.factors.regenerateRecoveryCodes(auth, body?.currentPassword, context) };
  }
}

/** App passwords: how an account with a second factor signs in on the legacy surfaces (issue 12). */
@ApiTags('v1 me')
@Surface('v1')
@Controller('v1/me/app-passwords')
@Authenticated()
@UseFilters(ProblemDetailsFilter)
export class V1AppPasswordsController {
  constructor(private readonly appPasswords: AppPasswords) {}

  @Get()
  @ApiOperation({ operationId: 'listAppPasswords', summary: 'The app passwords of the signed-in user, with their last use (never the passwords)' })
  @ApiOkResponse({ type: [AppPasswordDto] })
  @ApiProblems(401, 403)
  async list(@CurrentAuth() { user }: AuthContext): Promise<AppPasswordDto[]> {
    return (await this.appPasswords.list(user.id)).map(presentAppPassword);
  }

  @Post()
  @ApiOperation({
    operationId: 'createAppPassword',
    summary: 'Create an app password for a legacy client (shown this once)',
    description:
      `${FRESH} Only for an account with a second factor (409 NoSecondFactor): the legacy sign-in routes (001 /auth/login, 002 /users/auth/token/, ` +
      '003 /api/login) then accept an app password and refuse the account password. /v1 never accepts one. 160 random bits, stored as SHA-256; at most 25.',
  })
  @ApiCreatedResponse({ type: NewAppPasswordDto })
  @ApiProblems(400, 401, 403, 409, 429)
  async create(@CurrentAuth() auth: AuthContext, @Body() body: CreateAppPasswordDto, @RequestContext() context: SecurityContext): Promise<NewAppPasswordDto> {
    const { credential, password } = await this.appPasswords.create(auth, body.name, body.currentPassword, context);
    return { ...presentAppPassword(credential), password };
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ operationId: 'revokeAppPassword', summary: 'Revoke an app password: it stops working and every session it opened ends' })
  @ApiNoContentResponse({ description: 'Revoked.' })
  @ApiProblems(400, 401, 403, 404)
  async revoke(@CurrentAuth() auth: AuthContext, @Param('id', new ParseUUIDPipe()) id: string, @RequestContext() context: SecurityContext): Promise<void> {
    await this.appPasswords.revoke(auth, id, context);
  }
}
