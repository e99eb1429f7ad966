import { Surface, RequestContext, SecurityContext } from '../../../common/security-context';
import { Body, Controller, Delete, Get, HttpCode, Inject, Patch, Post, Query, UseFilters } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { AuthService } from '../../../auth/auth.service';
import { ContactChanges } from '../../../credentials/contact-changes.service';
import { CredentialsService } from '../../../credentials/credentials.service';
import { AuthContext, SessionsService } from '../../../auth/sessions.service';
import { Authenticated, CurrentAuth, Public } from '../../../common/auth.decorators';
import { DomainError, FieldError } from '../../../common/domain-error';
import { LoginIdentifier, toE164 } from '../../../common/identifiers';
import { RateLimited, SignInRateLimited } from '../../../common/ip-throttler.guard';
import { Locale, RequestLocale } from '../../../common/locale';
import { ProfileChangeLimited } from '../../../limits/profile-change-limit.guard';
import { APP_CONFIG, AppConfig } from '../../../config/app-config';
import { User } from '../../../users/user.entity';
import { UsersService } from '../../../users/users.service';
import { ContactVerificationService } from '../../../verification/contact-verification.service';
import { ApiUsersApiErrors, UsersApiErrorFilter } from './users-api-error.filter';
import {
  UsersApiAcceptEmailDto,
  UsersApiDetailDto,
  UsersApiExecutorsQueryDto,
  UsersApiRefreshDto,
  UsersApiRegisteredUserDto,
  UsersApiRegistrationDto,
  UsersApiTokenPairDto,
  UsersApiTokenRequestDto,
  UsersApiUpdateUserDto,
  UsersApiUpdateResultDto,
  UsersApiUserDto,
} from './users-api.dto';
import {
  changedMessage,
  CODE_SENT,
  CONFIRMED,
  DELETED,
  presentRegistered,
  presentTokens,
  presentUser,
  profileChange,
  reasonOf,
  UPDATE_FIELDS,
} from './users-api.presenter';
import { ReadOnly, ReadOnlyWhenSuccessful } from '../../../common/read-your-writes';

const TAG = 'legacy 002: users API';
/** `GET user/executor/` pages hold at most this many users (SPEC §7: page size capped at 100). */
const EXECUTORS_PAGE = 100;

/** Document 002, registration and tokens: `/users/auth/…` (public). */
@ApiTags(TAG)
@Surface('002')
@Controller('users/auth')
@UseFilters(UsersApiErrorFilter)
export class UsersApiAuthController {
  constructor(
    private readonly users: UsersService,
    private readonly auth: AuthService,
    private readonly sessions: SessionsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('registration')
  @Public()
  @RateLimited()
  @ApiOperation({
    operationId: 'legacy002_registration',
    summary: 'Create an account; answers the documented fields, never the password',
    description: 'An e-mail or a number is required (both may be given). `number` is stored and returned in E.164. Sends no e-mail (SPEC §6).',
  })
  @ApiCreatedResponse({ type: UsersApiRegisteredUserDto, description: 'Registered: the documented fields, without the password.' })
  @ApiUsersApiErrors(400, 409, 429)
  async registration(
    @Body() body: UsersApiRegistrationDto,
    @RequestContext() context: SecurityContext,
    @RequestLocale() locale?: Locale,
  ): Promise<UsersApiRegisteredUserDto> {
    const { number, ...profile } = body;
    return presentRegistered(await this.auth.register({ ...profile, phone: number, locale: locale ?? null }, { context }));
  }

  @Post('token')
  @Public()
  @ReadOnlyWhenSuccessful()
  @SignInRateLimited()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'legacy002_token',
    summary: 'Sign in with e-mail or number and password: a refresh/access pair',
    description:
      '`expired_at` is the number of seconds the access token lives. With both `email` and `number`, the e-mail is used.' +
      ' An account with a second factor signs in here with an app password (POST /v1/me/app-passwords) instead of its account password, which is refused (401 with a hint).',
  })
  @ApiOkResponse({ type: UsersApiTokenPairDto, description: 'Signed in: a new session.' })
  @ApiUsersApiErrors(400, 401, 403, 429)
  async token(@Body() body: UsersApiTokenRequestDto, @RequestContext() client: SecurityContext): Promise<UsersApiTokenPairDto> {
    return presentTokens(await this.auth.signIn({ identifier: this.identifierOf(body), password: body.password, secondFactor: 'app-password', ...client }));
  }

  @Post('token/refresh')
  @Public()
  @ReadOnlyWhenSuccessful()
  @RateLimited()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'legacy002_tokenRefresh',
    summary: 'Exchange a refresh token for a new pair',
    description:
      'The refresh token rotates on every use. Presenting an already-used one revokes the whole session (its access tokens stop working), ' +
      'except a retry within 5 seconds of its rotation, which gets the same refresh token that rotation issued and a fresh access token.',
  })
  @ApiOkResponse({ type: UsersApiTokenPairDto, description: 'A new pair; the refresh token sent is used up.' })
  @ApiUsersApiErrors(400, 401, 403, 429)
  async refresh(@Body() body: UsersApiRefreshDto, @RequestContext() context: SecurityContext): Promise<UsersApiTokenPairDto> {
    return presentTokens(await this.sessions.refresh(body.refresh, context));
  }

  /** `{email}` or `{number}`, already classified (the number in E.164, so any common form matches). */
  private identifierOf({ email, number }: UsersApiTokenRequestDto): LoginIdentifier {
    if (email !== undefined) return { kind: 'email', value: email };
    if (number !== undefined) return { kind: 'phone', value: toE164(number, this.config.defaultPhoneRegion) ?? number };
    throw DomainError.validation([{ field: 'non_field_errors', message: 'Either email or number is required.' }]);
  }
}

/** Document 002, the signed-in user: `/users/user/…`, `/users/verify-email/`, `/users/accept-email/`. */
@ApiTags(TAG)
@Surface('002')
@Controller('users')
@Authenticated()
@UseFilters(UsersApiErrorFilter)
export class UsersApiUserController {
  constructor(
    private readonly users: UsersService,
    private readonly auth: AuthService,
    private readonly credentials: CredentialsService,
    private readonly contactChanges: ContactChanges,
    private readonly contacts: ContactVerificationService,
  ) {}

  @Get('user')
  @ReadOnly()
  @ApiOperation({ operationId: 'legacy002_getUser', summary: 'The signed-in user (`Authorization: Bearer <access>` or `Token <access>`)' })
  @ApiOkResponse({ type: UsersApiUserDto, description: 'The user object.' })
  @ApiUsersApiErrors(401, 403)
  getUser(@CurrentAuth() { user }: AuthContext): UsersApiUserDto {
    return presentUser(user);
  }

  @Patch('user')
  @ProfileChangeLimited()
  @ApiOperation({
    operationId: 'legacy002_updateUser',
    summary: 'Change any of the fields; each is applied on its own and reported under `success` or `error`',
    description:
      'Always 200 (unless the token or the JSON is bad, or the account is over its profile-change limit): a field that fails (taken e-mail, invalid number, weak password, wrong type…) is ' +
      'listed under `error` with its reason and the others still apply. A new e-mail clears `confirmed_email`, a new number ' +
      '`confirmed_number`. A new password needs no old one and ends every other session of the user (this one stays). ' +
      'Each request counts against PROFILE_CHANGES_PER_HOUR (30) per account and hour, over every surface together: beyond it the whole request is refused (429 with Retry-After).',
  })
  @ApiBody({ type: UsersApiUpdateUserDto })
  @ApiOkResponse({ type: UsersApiUpdateResultDto, description: 'What changed (`success`) and what did not, with the reason (`error`).' })
  @ApiUsersApiErrors(400, 401, 403, 429)
  async updateUser(
    @CurrentAuth() auth: AuthContext,
    @Body() body: unknown,
    @RequestContext() context: SecurityContext,
    @RequestLocale() locale?: Locale,
  ): Promise<UsersApiUpdateResultDto> {
    const input = objectBody(body);
    const dto = plainToInstance(UsersApiUpdateUserDto, input);
    const invalid = await invalidFields(dto);
    const result: UsersApiUpdateResultDto = { success: {}, error: {} };
    let user: User = auth.user;
    for (const { input: field, key } of UPDATE_FIELDS) {
      if (!Object.hasOwn(input, field)) continue;
      try {
        const problems = invalid.get(field);
        if (problems) throw DomainError.validation(problems);
        if (field === 'password')
          await this.credentials.setPassword(user, dto.password!, { reason: 'changed', keepSessionId: auth.sessionId, locale, context });
        else user = await this.contactChanges.updateProfile(user, profileChange(field, dto[field] ?? null), locale, { context, sessionId: auth.sessionId });
        result.success[key] = changedMessage(key);
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        result.error[key] = reasonOf(error);
      }
    }
    return result;
  }

  @Delete('user')
  @ApiOperation({
    operationId: 'legacy002_deleteUser',
    summary: 'Delete the account: personal data is removed and every session ends',
    description: 'The e-mail and number are free to register again. The document shows no body; this one keeps `.json()` clients working.',
  })
  @ApiOkResponse({ type: UsersApiDetailDto, example: DELETED, description: 'Deleted.' })
  @ApiUsersApiErrors(401, 403, 404)
  async deleteUser(@CurrentAuth() { user }: AuthContext, @RequestContext() context: SecurityContext): Promise<UsersApiDetailDto> {
    await this.users.delete(user.id, { context });
    return DELETED;
  }

  @Get('user/executor')
  @ReadOnly()
  @ApiOperation({
    operationId: 'legacy002_listExecutors',
    summary: 'Users with the role `executor`: a JSON array of user objects',
    description: 'Newest first. `limit` (default and maximum 100) and `offset` page through them.',
  })
  @ApiOkResponse({ type: [UsersApiUserDto], description: 'The executors, newest first.' })
  @ApiUsersApiErrors(400, 401, 403)
  async listExecutors(@Query() query: UsersApiExecutorsQueryDto): Promise<UsersApiUserDto[]> {
    const limit = Math.min(query.limit ?? EXECUTORS_PAGE, EXECUTORS_PAGE);
    const [executors] = await this.users.list({ role: 'executor', offset: query.offset ?? 0, limit });
    return executors.map(presentUser);
  }

  @Post('verify-email')
  @RateLimited()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'legacy002_verifyEmail',
    summary: "E-mail a 6-digit code that confirms the account's address (used by accept-email/)",
    description: 'A new code voids the previous one; it lives 10 minutes. One request per 60 s (429 with Retry-After before that).',
  })
  @ApiOkResponse({ type: UsersApiDetailDto, example: CODE_SENT, description: 'The code is on its way.' })
  @ApiUsersApiErrors(400, 401, 403, 409, 429)
  async verifyEmail(@CurrentAuth() { user }: AuthContext, @RequestLocale() locale?: Locale): Promise<UsersApiDetailDto> {
    await this.contacts.requestEmail(user, { code: true, locale });
    return CODE_SENT;
  }

  @Post('accept-email')
  @RateLimited()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'legacy002_acceptEmail',
    summary: 'Confirm the e-mail with the code from verify-email/; `confirmed_email` becomes true',
    description: '`code` may be a JSON number (left-padded to 6 digits) or a string. Five wrong codes void it.',
  })
  @ApiOkResponse({ type: UsersApiDetailDto, example: CONFIRMED, description: 'The e-mail is confirmed.' })
  @ApiUsersApiErrors(400, 401, 403, 429)
  async acceptEmail(
    @CurrentAuth() { user, sessionId }: AuthContext,
    @Body() body: UsersApiAcceptEmailDto,
    @RequestContext() context: SecurityContext,
  ): Promise<UsersApiDetailDto> {
    await this.contacts.confirmEmailCode(user, body.code, { context, sessionId });
    return CONFIRMED;
  }
}

/** The PATCH body (none counts as `{}`); RequestInputGuard has refused anything but an object. */
function objectBody(body: unknown): Record<string, unknown> {
  return (body ?? {}) as Record<string, unknown>;
}

/** Each PATCH field's validation failures, by field (the fields are judged one by one). */
async function invalidFields(dto: UsersApiUpdateUserDto): Promise<Map<string, FieldError[]>> {
  const byField = new Map<string, FieldError[]>();
  for (const error of await validate(dto)) {
    byField.set(
      error.property,
      Object.values(error.constraints ?? {}).map((message) => ({ field: error.property, message })),
    );
  }
  return byField;
}
