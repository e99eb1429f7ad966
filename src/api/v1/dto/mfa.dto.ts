import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  Equals,
  IsArray,
  IsBoolean,
  IsIn,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  ValidateNested,
  ArrayMaxSize,
} from 'class-validator';
import { trim } from '../../../common/dto-transforms';
import { FreshProofDto } from './me.dto';

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const base64url = (field: string) => Matches(BASE64URL, { message: `${field} must be base64url` });
const TOTP_CODE = /^\d{6}$/;
const METHODS = ['totp', 'webauthn', 'recovery'] as const;

// --- WebAuthn, as the browser's PublicKeyCredential.toJSON() (or @simplewebauthn/browser) gives it ------

export class WebAuthnAssertionResponseDto {
  @ApiProperty({ description: 'base64url' }) @IsString() @MaxLength(8192) @base64url('clientDataJSON') clientDataJSON: string;
  @ApiProperty({ description: 'base64url' }) @IsString() @MaxLength(8192) @base64url('authenticatorData') authenticatorData: string;
  @ApiProperty({ description: 'base64url' }) @IsString() @MaxLength(2048) @base64url('signature') signature: string;
  @ApiPropertyOptional({ description: "base64url; the account's user handle (discoverable passkeys)" })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  @base64url('userHandle')
  userHandle?: string;
}

/** A passkey assertion (`navigator.credentials.get`). */
export class WebAuthnAssertionDto {
  @ApiProperty({ description: 'The credential id, base64url.' }) @IsString() @IsNotEmpty() @MaxLength(1024) @base64url('id') id: string;
  @ApiProperty({ description: 'The same id, base64url.' }) @IsString() @IsNotEmpty() @MaxLength(1024) @base64url('rawId') rawId: string;
  @ApiProperty({ enum: ['public-key'] }) @Equals('public-key') type: 'public-key';
  @ApiProperty({ type: WebAuthnAssertionResponseDto }) @ValidateNested() @Type(() => WebAuthnAssertionResponseDto) response: WebAuthnAssertionResponseDto;
  @ApiProperty({ type: Object, example: {}, description: 'Extension outputs (may be empty).' }) @IsObject() clientExtensionResults: Record<string, unknown>;
  @ApiPropertyOptional({ enum: ['platform', 'cross-platform'] }) @IsOptional() @IsIn(['platform', 'cross-platform']) authenticatorAttachment?:
    'platform' | 'cross-platform';
}

export class WebAuthnAttestationResponseDto {
  @ApiProperty({ description: 'base64url' }) @IsString() @MaxLength(8192) @base64url('clientDataJSON') clientDataJSON: string;
  @ApiProperty({ description: 'base64url' }) @IsString() @MaxLength(16384) @base64url('attestationObject') attestationObject: string;
  @ApiPropertyOptional({ type: [String], example: ['internal', 'hybrid'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10)
  @IsString({ each: true })
  @MaxLength(32, { each: true })
  transports?: string[];
  @ApiPropertyOptional({ description: 'base64url' }) @IsOptional() @IsString() @MaxLength(8192) @base64url('authenticatorData') authenticatorData?: string;
  @ApiPropertyOptional({ example: -7 }) @IsOptional() @Type(() => Number) publicKeyAlgorithm?: number;
  @ApiPropertyOptional({ description: 'base64url' }) @IsOptional() @IsString() @MaxLength(8192) @base64url('publicKey') publicKey?: string;
}

/** A new passkey (`navigator.credentials.create`). */
export class WebAuthnAttestationDto {
  @ApiProperty({ description: 'The credential id, base64url.' }) @IsString() @IsNotEmpty() @MaxLength(1024) @base64url('id') id: string;
  @ApiProperty({ description: 'The same id, base64url.' }) @IsString() @IsNotEmpty() @MaxLength(1024) @base64url('rawId') rawId: string;
  @ApiProperty({ enum: ['public-key'] }) @Equals('public-key') type: 'public-key';
  @ApiProperty({ type: WebAuthnAttestationResponseDto }) @ValidateNested() @Type(() => WebAuthnAttestationResponseDto) response: WebAuthnAttestationResponseDto;
  @ApiProperty({ type: Object, example: {}, description: 'Extension outputs (may be empty).' }) @IsObject() clientExtensionResults: Record<string, unknown>;
  @ApiPropertyOptional({ enum: ['platform', 'cross-platform'] }) @IsOptional() @IsIn(['platform', 'cross-platform']) authenticatorAttachment?:
    'platform' | 'cross-platform';
}

export class WebAuthnCredentialDescriptorDto {
  @ApiProperty({ description: 'base64url' }) id: string;
  @ApiProperty({ enum: ['public-key'] }) type: 'public-key';
  @ApiPropertyOptional({ type: [String] }) transports?: string[];
}

/** `PublicKeyCredentialRequestOptionsJSON`: pass to `navigator.credentials.get({ publicKey })` (after decoding with PublicKeyCredential.parseRequestOptionsFromJSON). */
export class WebAuthnRequestOptionsDto {
  @ApiProperty({ description: 'base64url; what the assertion signs.' }) challenge: string;
  @ApiPropertyOptional({ example: 300000 }) timeout?: number;
  @ApiPropertyOptional({ example: 'id.example.com' }) rpId?: string;
  @ApiPropertyOptional({ type: [WebAuthnCredentialDescriptorDto], description: 'Empty for a sign-in without password (any discoverable passkey).' })
  allowCredentials?: WebAuthnCredentialDescriptorDto[];
  @ApiPropertyOptional({ enum: ['required', 'preferred', 'discouraged'] }) userVerification?: string;
  @ApiPropertyOptional({ type: Object, example: {}, description: 'Client extension inputs.' }) extensions?: Record<string, unknown>;
  @ApiPropertyOptional({ type: [String], example: [], description: 'Hints for the browser (e.g. `security-key`, `client-device`).' }) hints?: string[];
}

export class WebAuthnRelyingPartyDto {
  @ApiPropertyOptional({ example: 'id.example.com' }) id?: string;
  @ApiProperty({ example: 'Identity service' }) name: string;
}

export class WebAuthnUserDto {
  @ApiProperty({ description: "The account's user handle, base64url." }) id: string;
  @ApiProperty({ example: 'anna@example.com' }) name: string;
  @ApiProperty({ example: 'anna@example.com' }) displayName: string;
}

export class WebAuthnKeyParametersDto {
  @ApiProperty({ enum: ['public-key'] }) type: 'public-key';
  @ApiProperty({ example: -7, description: 'COSE algorithm (-7 ES256, -8 EdDSA, -257 RS256).' }) alg: number;
}

/** `PublicKeyCredentialCreationOptionsJSON`: pass to `navigator.credentials.create({ publicKey })` (after PublicKeyCredential.parseCreationOptionsFromJSON). */
export class WebAuthnCreationOptionsDto {
  @ApiProperty({ type: WebAuthnRelyingPartyDto }) rp: WebAuthnRelyingPartyDto;
  @ApiProperty({ type: WebAuthnUserDto }) user: WebAuthnUserDto;
  @ApiProperty({ description: 'base64url; what the attestation signs.' }) challenge: string;
  @ApiProperty({ type: [WebAuthnKeyParametersDto] }) pubKeyCredParams: WebAuthnKeyParametersDto[];
  @ApiPropertyOptional({ example: 300000 }) timeout?: number;
  @ApiPropertyOptional({ type: [WebAuthnCredentialDescriptorDto], description: "The account's passkeys, so an authenticator does not register twice." })
  excludeCredentials?: WebAuthnCredentialDescriptorDto[];
  @ApiPropertyOptional({ type: Object, example: { residentKey: 'required', requireResidentKey: true, userVerification: 'preferred' } })
  authenticatorSelection?: Record<string, unknown>;
  @ApiPropertyOptional({ example: 'none' }) attestation?: string;
  @ApiPropertyOptional({ type: Object, example: { credProps: true }, description: 'Client extension inputs.' }) extensions?: Record<string, unknown>;
  @ApiPropertyOptional({ type: [String], example: [], description: 'Hints for the browser (e.g. `security-key`, `client-device`).' }) hints?: string[];
}

// --- sign-in with a second step -----------------------------------------------------------------------

/** The answer of `POST /v1/auth/login` for an account with a second factor: no tokens yet. */
export class MfaChallengeDto {
  @ApiProperty({ enum: [true], example: true, description: 'Always true here: answer the challenge with POST /v1/auth/login/mfa.' }) mfaRequired: true;
  @ApiProperty({ format: 'uuid' }) challengeId: string;
  @ApiProperty({
    enum: METHODS,
    isArray: true,
    example: ['totp', 'webauthn', 'recovery'],
    description: 'What may answer: a TOTP code, a passkey assertion, a recovery code.',
  })
  methods: string[];
  @ApiProperty({ example: 300, description: 'Seconds the challenge lives (5 tries in that time).' }) expiresIn: number;
  @ApiProperty({ type: WebAuthnRequestOptionsDto, nullable: true, description: 'Options for a passkey assertion, when `webauthn` is offered.' })
  webauthn: WebAuthnRequestOptionsDto | null;
}

/** Exactly one of `totp`, `recoveryCode` or `webauthn`. */
export class SecondFactorProofDto {
  @ApiProperty({ format: 'uuid', description: 'From the login (or step-up) answer.' }) @IsUUID() challengeId: string;

  @ApiPropertyOptional({
    example: '042917',
    description: 'The current 6-digit code of the authenticator app (the step before or after is accepted too; each code once).',
  })
  @IsOptional()
  @Transform(trim)
  @IsString()
  @Matches(TOTP_CODE, { message: 'totp must be 6 digits' })
  totp?: string;

  @ApiPropertyOptional({ example: 'abcd-efgh-ijkl-mnop', description: 'One of the recovery codes (case, spaces and dashes do not matter); each works once.' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  recoveryCode?: string;

  @ApiPropertyOptional({ type: WebAuthnAssertionDto, description: "A passkey assertion over the challenge's `webauthn.challenge`." })
  @IsOptional()
  @ValidateNested()
  @Type(() => WebAuthnAssertionDto)
  webauthn?: WebAuthnAssertionDto;
}

export class PasskeySignInOptionsDto {
  @ApiProperty({ format: 'uuid' }) challengeId: string;
  @ApiProperty({ example: 300 }) expiresIn: number;
  @ApiProperty({ type: WebAuthnRequestOptionsDto }) publicKey: WebAuthnRequestOptionsDto;
}

export class PasskeySignInDto {
  @ApiProperty({ format: 'uuid', description: 'From POST /v1/auth/passkey/options.' }) @IsUUID() challengeId: string;
  @ApiProperty({ type: WebAuthnAssertionDto, description: 'The assertion of a discoverable passkey, with user verification.' })
  @ValidateNested()
  @Type(() => WebAuthnAssertionDto)
  credential: WebAuthnAssertionDto;
  @ApiPropertyOptional({ default: false, description: 'Keep the session for REMEMBER_ME_TTL instead of REFRESH_TOKEN_TTL.' })
  @IsOptional()
  @IsBoolean()
  rememberMe?: boolean;
}

/** A step-up's new access token: the session is aal2 as of now (the refresh token is unchanged). */
export class StepUpResultDto {
  @ApiProperty({ description: 'JWT with `acr` "aal2" and a new `auth_time`.' }) accessToken: string;
  @ApiProperty({ example: 'Bearer' }) tokenType: 'Bearer';
  @ApiProperty({ example: 900 }) expiresIn: number;
  @ApiProperty({ format: 'uuid' }) sessionId: string;
  @ApiProperty({ example: 'aal2', enum: ['aal2'] }) acr: 'aal2';
}

// --- managing factors ---------------------------------------------------------------------------------

export class FactorDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: ['totp', 'passkey'] }) type: 'totp' | 'passkey';
  @ApiProperty({ type: String, nullable: true, example: 'Work laptop' }) name: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) lastUsedAt: string | null;
}

export class FactorsDto {
  @ApiProperty({ description: 'True when sign-in asks for a second step (a TOTP or a passkey is enrolled).' }) enabled: boolean;
  @ApiProperty({ type: [FactorDto] }) factors: FactorDto[];
  @ApiProperty({ example: 10, description: 'Unused recovery codes.' }) recoveryCodesLeft: number;
  @ApiProperty({ example: 1, description: 'App passwords (legacy clients).' }) appPasswords: number;
}

export class TotpEnrolmentDto {
  @ApiProperty({ example: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', description: 'Base32, for typing into an app by hand. Shown once.' }) secret: string;
  @ApiProperty({ example: 'otpauth://totp/Identity%20service:anna%40example.com?secret=…&issuer=Identity%20service' }) otpauthUri: string;
  @ApiProperty({ example: 'data:image/svg+xml;base64,PHN2Zy…', description: 'The URI as a QR code (SVG data URI).' }) qrCode: string;
  @ApiProperty({ example: 900, description: 'Seconds to confirm with a first code (POST /v1/me/factors/totp/confirm).' }) expiresIn: number;
}

export class ConfirmTotpDto {
  @ApiProperty({ example: '042917', description: "The app's current 6-digit code." })
  @Transform(trim)
  @IsString()
  @Matches(TOTP_CODE, { message: 'code must be 6 digits' })
  code: string;
}

export class EnrolledFactorDto {
  @ApiProperty({ type: FactorDto }) factor: FactorDto;
  @ApiProperty({
    type: [String],
    nullable: true,
    example: ['abcd-efgh-ijkl-mnop'],
    description: "With the account's first factor: 10 single-use recovery codes, shown this once. Null otherwise.",
  })
  recoveryCodes: string[] | null;
}

export class StartTotpDto extends FreshProofDto {}
export class PasskeyRegistrationRequestDto extends FreshProofDto {}
export class RemoveFactorDto extends FreshProofDto {}
export class RegenerateRecoveryCodesDto extends FreshProofDto {}

export class PasskeyRegistrationOptionsDto {
  @ApiProperty({ format: 'uuid' }) challengeId: string;
  @ApiProperty({ example: 300 }) expiresIn: number;
  @ApiProperty({ type: WebAuthnCreationOptionsDto }) publicKey: WebAuthnCreationOptionsDto;
}

export class RegisterPasskeyDto {
  @ApiProperty({ format: 'uuid', description: 'From POST /v1/me/factors/passkeys/options.' }) @IsUUID() challengeId: string;
  @ApiPropertyOptional({ example: 'Work laptop', description: 'Shown in lists and notices (default "Passkey").' })
  @IsOptional()
  @Transform(trim)
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name?: string;
  @ApiProperty({ type: WebAuthnAttestationDto }) @ValidateNested() @Type(() => WebAuthnAttestationDto) credential: WebAuthnAttestationDto;
}

export class RenameFactorDto {
  @ApiProperty({ example: 'Phone' }) @Transform(trim) @IsString() @IsNotEmpty() @MaxLength(100) name: string;
}

export class RecoveryCodesDto {
  @ApiProperty({ type: [String], example: ['abcd-efgh-ijkl-mnop'], description: '10 single-use codes, shown this once; the previous ones no longer work.' })
  codes: string[];
}

// --- app passwords ------------------------------------------------------------------------------------

export class AppPasswordDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'Old mobile app' }) name: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) lastUsedAt: string | null;
}

export class NewAppPasswordDto extends AppPasswordDto {
  @ApiProperty({
    example: 'abcd-efgh-ijkl-mnop-qrst-uvwx-yz23-4567',
    description: 'Type it into the legacy client instead of the account password. Shown this once.',
  })
  password: string;
}

export class CreateAppPasswordDto extends FreshProofDto {
  @ApiProperty({ example: 'Old mobile app', description: 'What it is for.' }) @Transform(trim) @IsString() @IsNotEmpty() @MaxLength(100) name: string;
}
