import { Surface, RequestContext, SecurityContext } from '../../common/security-context';
import { Body, Controller, HttpCode, Post, UseFilters } from '@nestjs/common';
import { ApiCreatedResponse, ApiExtraModels, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { AuthService } from '../../auth/auth.service';
import { AuthContext, SessionsService } from '../../auth/sessions.service';
import { Authenticated, CurrentAuth, Public } from '../../common/auth.decorators';
import { RateLimited, SignInRateLimited } from '../../common/ip-throttler.guard';
import { Locale, RequestLocale } from '../../common/locale';
import { UsersService } from '../../users/users.service';
import { ContactVerificationService } from '../../verification/contact-verification.service';
import { V1Links } from './v1.links';
import { LoginDto, LoginResponseDto, RefreshDto, RegisterDto, TokenPairDto } from './dto/auth.dto';
import { ApiProblems } from './dto/problem.dto';
import { UserDto } from './dto/user.dto';
import { ProblemDetailsFilter } from './problem-details.filter';
import { MfaChallengeDto } from './dto/mfa.dto';
import { presentLogin, presentTokens, presentUser } from './v1.presenter';
import { ReadOnlyWhenSuccessful } from '../../common/read-your-writes';

@ApiTags('v1 auth')
@Surface('v1')
@Controller('v1/auth')
@UseFilters(ProblemDetailsFilter)
export class V1AuthController {
  constructor(
    private readonly users: UsersService,
    private readonly auth: AuthService,
    private readonly sessions: SessionsService,
    private readonly contacts: ContactVerificationService,
    private readonly links: V1Links,
  ) {}

  @Post('register')
  @Public()
  @RateLimited()
  @ApiOperation({
    operationId: 'register',
    summary: 'Create an account (e-mail, username or phone, and a password)',
    description: 'When an e-mail is given, one message with a verification code and link goes to it. `locale` defaults to the Accept-Language.',
  })
  @ApiCreatedResponse({ type: UserDto })
  @ApiProblems(400, 409)
  async register(@Body() body: RegisterDto, @RequestContext() context: SecurityContext, @RequestLocale() locale?: Locale): Promise<UserDto> {
    const user = await this.auth.register({ ...body, locale: body.locale ?? locale ?? null }, { context });
    await this.contacts.welcome(user, { link: this.links.confirmEmail });
    return presentUser(user);
  }

  @Post('login')
  @ReadOnlyWhenSuccessful()
  @Public()
  @SignInRateLimited()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'login',
    summary: 'Sign in with e-mail, username or phone and password',
    description:
      'An account without a second factor gets the token pair and the user. An account with one gets a challenge instead ' +
      '(`mfaRequired: true`, `challengeId`, the `methods`, WebAuthn options when a passkey may answer) and no tokens: ' +
      'answer it with POST /v1/auth/login/mfa within 5 minutes (5 tries, each wrong one counting toward the account lockout). ' +
      'App passwords are never accepted here.',
  })
  @ApiExtraModels(LoginResponseDto, MfaChallengeDto)
  @ApiOkResponse({
    description: 'Signed in (`LoginResponse`), or a second step is needed (`MfaChallenge`, `mfaRequired: true`).',
    schema: { oneOf: [{ $ref: getSchemaPath(LoginResponseDto) }, { $ref: getSchemaPath(MfaChallengeDto) }] },
  })
  @ApiProblems(400, 401, 403, 429)
  async login(@Body() body: LoginDto, @RequestContext() client: SecurityContext): Promise<LoginResponseDto | MfaChallengeDto> {
    return presentLogin(await this.auth.signIn({ identifier: body.login, password: body.password, remember: body.rememberMe, ...client }));
  }

  @Post('refresh')
  @Public()
  @ReadOnlyWhenSuccessful()
  @RateLimited()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'refresh',
    summary: 'Exchange a refresh token for a new pair',
    description:
      'The refresh token rotates on every use. Presenting an already-used token revokes the whole session, except a retry within 5 seconds of its rotation, which gets the same refresh token that rotation issued and a fresh access token.',
  })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiProblems(400, 401, 403, 429)
  async refresh(@Body() body: RefreshDto, @RequestContext() context: SecurityContext): Promise<TokenPairDto> {
    return presentTokens(await this.sessions.refresh(body.refreshToken, context));
  }

  @Post('logout')
  @Authenticated()
  @HttpCode(204)
  @ApiOperation({ operationId: 'logout', summary: 'End this session: its access and refresh tokens stop working at once' })
  @ApiNoContentResponse({ description: 'Signed out.' })
  @ApiProblems(401)
  async logout(@CurrentAuth() auth: AuthContext, @RequestContext() context: SecurityContext): Promise<void> {
    await this.auth.signOut(auth.user, auth.sessionId, context);
  }
}
