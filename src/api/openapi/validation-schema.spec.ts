import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsEmail,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateBy,
  ValidateIf,
} from 'class-validator';
import { numberToText, wasSent } from '../../common/dto-transforms';
import { CheckedByService } from '../../common/openapi.decorators';
import type { AppConfig } from '../../config/app-config';
import { validationRulesOf } from './validation-schema';

const config = { passwordMinLength: 10 } as AppConfig;

class SampleDto {
  @IsString() @IsNotEmpty() @MaxLength(20) name: string;
  @IsOptional() @IsEmail() @MaxLength(254) email?: string | null;
  @ValidateIf(wasSent) @IsString() @Matches(/^\d{6}$/) code?: string;
  @IsOptional() @IsUUID() cityId?: string;
  @IsOptional() @IsInt() @Min(1) @Max(100) limit?: number;
  @IsOptional() @IsIn(['en', 'ru']) locale?: string;
  @IsOptional() @Transform(numberToText) @IsString() @MaxLength(32) phone?: string;
  @IsString() @CheckedByService((c: AppConfig) => ({ minLength: c.passwordMinLength, maxLength: 128 })) @MaxLength(1024) password: string;
  @ValidateIf((_: unknown, value: unknown) => value !== null) @IsBoolean() flag: boolean | null;
}

class AlternativesDto {
  @ValidateIf((body: AlternativesDto) => body.phone === undefined) @IsEmail() email?: string;
  @ValidateIf((body: AlternativesDto) => body.email === undefined) @IsString() phone?: string;
}

describe('the schema of a DTO, read from its validators', () => {
  const rules = validationRulesOf(SampleDto, config);

  it('states types, lengths, patterns, formats, ranges and enums', () => {
    expect(rules.get('name')!.schema).toEqual({ type: 'string', minLength: 1, maxLength: 20 });
    expect(rules.get('email')!.schema).toEqual({ type: 'string', format: 'email', maxLength: 254 });
    expect(rules.get('code')!.schema).toEqual({ type: 'string', pattern: '^\\d{6}$' });
    expect(rules.get('cityId')!.schema).toEqual({ type: 'string', format: 'uuid' });
    expect(rules.get('limit')!.schema).toEqual({ type: 'integer', minimum: 1, maximum: 100 });
    expect(rules.get('locale')!.schema).toEqual({ type: 'string', enum: ['en', 'ru'] });
  });

  it('reads required and nullable from the conditions: @IsOptional takes null, @ValidateIf(wasSent) does not', () => {
    expect([rules.get('name')!.required, rules.get('name')!.nullable]).toEqual([true, false]);
    expect([rules.get('email')!.required, rules.get('email')!.nullable]).toEqual([false, true]);
    expect([rules.get('code')!.required, rules.get('code')!.nullable]).toEqual([false, false]);
    expect([rules.get('flag')!.required, rules.get('flag')!.nullable]).toEqual([true, true]);
  });

  it('widens by the registered transforms (a phone may be a whole number) and tightens by the service rule (the running password policy)', () => {
    expect(rules.get('phone')!.schema).toEqual({
      anyOf: [
        { type: 'string', maxLength: 32 },
        { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
      ],
    });
    expect(rules.get('password')!.schema).toEqual({ type: 'string', minLength: 10, maxLength: 128 });
  });

  it('notices a field whose validation depends on its siblings (it must be declared as an alternative)', () => {
    const alternatives = validationRulesOf(AlternativesDto, config);
    expect(alternatives.get('email')!.dependsOnSiblings).toBe(true);
    expect(alternatives.get('phone')!.dependsOnSiblings).toBe(true);
    expect(rules.get('code')!.dependsOnSiblings).toBe(false);
  });

  it('refuses a validator or a transform it cannot document, rather than leave a constraint out', () => {
    class CustomDto {
      @ValidateBy({ name: 'isPrime', validator: { validate: () => true } }) n: number;
    }
    class TransformedDto {
      @Transform(({ value }) => value) @IsString() text: string;
    }
    class FlaggedDto {
      @Matches(/^a$/i) text: string;
    }
    expect(() => validationRulesOf(CustomDto, config)).toThrow('CustomDto.n: the validator "isPrime" has no OpenAPI form');
    expect(() => validationRulesOf(TransformedDto, config)).toThrow('TransformedDto.text: the @Transform (anonymous) has no documented input');
    expect(() => validationRulesOf(FlaggedDto, config)).toThrow('flags "i"');
  });
});
