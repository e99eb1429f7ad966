import { Body, Controller, HttpCode, Post, UseFilters } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthContext } from '../../auth/sessions.service';
import { Authenticated, CurrentAuth, Public } from '../../common/auth.decorators';
import { RateLimited, SignInRateLimited } from '../../common/ip-throttler.guard';
import { RequestContext, SecurityContext, Surface } from '../../common/security-context';
import { MfaChallenges } from '../../mfa/mfa-challenges.service';
import { LoginResponseDto } from './dto/auth.dto';
import { MfaChallengeDto, PasskeySignInDto, PasskeySignInOptionsDto, SecondFactorProofDto, StepUpResultDto, WebAuthnRequestOptionsDto } from './dto/mfa.dto';
import { ApiProblems } from './dto/problem.dto';
import { ProblemDetailsFilter } from './problem-details.filter';
import { presentChallenge, presentStepUp, presentTokens, presentUser, secondsUntil } from './v1.presenter';

const PROOF =
  "Exactly one of `totp` (the app's current code; each code works once), `recoveryCode` (single use; the owner is told) or `webauthn` " +
  "(an assertion over the challenge's `webauthn.challenge`). A method the challenge did not offer is 400 and spends no try.";

/** The second step of a sign-in, and sign-in with a passkey alone (issue 12). */
@ApiTags('v1 auth')
@Surface('v1')
@Controller('v1/auth')
@UseFilters(ProblemDetailsFilter)
export class V1MfaSignInController {
  constructor(private readonly challenges: MfaChallenges) {}

  @Post('login/mfa')
  @Public()
  @SignInRateLimited()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'loginSecondFactor',
    summary: 'Answer the challenge of a sign-in with a second factor: the token pair',
    description:
      `${PROOF} A wrong answer is 401 WrongSecondFactor and counts toward the account lockout; after 5, or 5 minutes, the challenge is over ` +
      '(401 MfaChallengeInvalid: sign in again). The access token carries `amr` (e.g. ["pwd","otp"]) and `acr` "aal2".',
  })
  @ApiOkResponse({ type: LoginResponseDto })
  @ApiProblems(400, 401, 403, 429)
  async loginSecondFactor(@Body() body: SecondFactorProofDto, @RequestContext() client: SecurityContext): Promise<LoginResponseDto> {
    const { challengeId, ...proof } = body;
    const signedIn = await this.challenges.completeSignIn(challengeId, proof, client);
    return { ...presentTokens(signedIn), user: presentUser(signedIn.user) };
  }

  @Post('passkey/options')
  @Public()
  @RateLimited()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'passkeySignInOptions',
    summary: 'Start a sign-in with a passkey alone: WebAuthn options for any discoverable passkey',
    description: 'Pass `publicKey` to navigator.credentials.get (user verification is required), then POST the assertion to /v1/auth/passkey within 5 minutes.',
  })
  @ApiOkResponse({ type: PasskeySignInOptionsDto })
  @ApiProblems(400, 429)
  async passkeyOptions(): Promise<PasskeySignInOptionsDto> {
    const started = await this.challenges.startPasskeySignIn();
    return { challengeId: started.challengeId, expiresIn: secondsUntil(started.expiresAt), publicKey: started.webauthn as WebAuthnRequestOptionsDto };
  }

  @Post('passkey')
  @Public()
  @SignInRateLimited()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'passkeySignIn',
    summary: 'Sign in with a passkey alone (no password): the token pair',
    description:
      'The passkey names the account. The authenticator must have verified the user (PIN, biometrics), so this is aal2: `amr` ["webauthn"], `acr` "aal2". ' +
      'One try per challenge (401 WrongSecondFactor, then MfaChallengeInvalid); a signature counter that does not grow (a cloned authenticator) is refused. ' +
      'A locked account is 429 here too.',
  })
  @ApiOkResponse({ type: LoginResponseDto })
  @ApiProblems(400, 401, 403, 429)
  async passkeySignIn(@Body() body: PasskeySignInDto, @RequestContext() client: SecurityContext): Promise<LoginResponseDto> {
    const signedIn = await this.challenges.completePasskeySignIn(body.challengeId, body.credential, { ...client, remember: body.rememberMe });
    return { ...presentTokens(signedIn), user: presentUser(signedIn.user) };
  }
}

/** Step-up: a second factor on a live session, for sensitive changes of an account that has one (SPEC §9 rule 4). */
@ApiTags('v1 me')
@Surface('v1')
@Controller('v1/me/step-up')
@Authenticated()
@UseFilters(ProblemDetailsFilter)
export class V1StepUpController {
  constructor(private readonly challenges: MfaChallenges) {}

  @Post()
  @RateLimited()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'startStepUp',
    summary: 'Start a step-up of this session: a challenge for a second factor',
    description:
      'Sensitive changes of an account with a second factor (e-mail, phone, password, deleting the account, managing factors and app passwords) need aal2 within ' +
      'REAUTH_MAX_AGE. Answer with POST /v1/me/step-up/verify. 409 NoSecondFactor for an account without one (its changes take `currentPassword`).',
  })
  @ApiOkResponse({ type: MfaChallengeDto })
  @ApiProblems(401, 403, 409, 429)
  async start(@CurrentAuth() auth: AuthContext): Promise<MfaChallengeDto> {
    return presentChallenge(await this.challenges.startStepUp(auth));
  }

  @Post('verify')
  @RateLimited()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'verifyStepUp',
    summary: "Answer this session's step-up challenge: a new access token at aal2",
    description: `${PROOF} Wrong answers count like a sign-in's (5 tries, the account lockout). The session stays aal2 with this \`auth_time\` through refreshes.`,
  })
  @ApiOkResponse({ type: StepUpResultDto })
  @ApiProblems(400, 401, 403, 429)
  async verify(@CurrentAuth() auth: AuthContext, @Body() body: SecondFactorProofDto, @RequestContext() context: SecurityContext): Promise<StepUpResultDto> {
    const { challengeId, ...proof } = body;
    return presentStepUp(await this.challenges.completeStepUp(auth, challengeId, proof, context));
  }
}
