import { generateKeyPairSync } from 'node:crypto';
import { ConfigError, Env, loadConfig } from './app-config';

function ecKeyPem(namedCurve: string): string {
  return generateKeyPairSync('ec', { namedCurve }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** The ConfigError that loading `env` throws (fails the test when it loads or throws something else). */
function configError(env: Env): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be rejected`);
}

describe('loadConfig', () => {
  describe('defaults (SPEC §3)', () => {
    const config = loadConfig({});

    it.each([
      ['port', 3000],
      ['host', '0.0.0.0'],
      ['accessTokenTtl', 900],
      ['refreshTokenTtl', 86400],
      ['rememberMeTtl', 2592000],
      ['passwordMinLength', 8],
      ['defaultPhoneRegion', 'RU'],
      ['logLevel', 'info'],
      ['mailFrom', 'no-reply@localhost'],
      ['publicUrl', 'http://localhost:3000'],
      ['rateLimitAllowlist', []],
      ['trustProxy', false],
      ['refreshReuseGraceSeconds', 5],
    ] as const)('%s defaults to %p', (key, expected) => {
      expect(config[key]).toEqual(expected);
    });

    it.each(['databaseUrl', 'smtpUrl', 'smsWebhookUrl', 'jwtPrivateKey'] as const)('%s is unset', (key) => {
      expect(config[key]).toBeUndefined();
    });

    it('operations (issue 14): audit events kept 365 days, no metrics token, 10 s shutdown grace', () => {
      expect(config.operations).toEqual({ auditRetentionDays: 365, metricsToken: undefined, shutdownGraceMs: 10_000 });
    });

    it('derives PUBLIC_URL from PORT', () => {
      expect(loadConfig({ PORT: '8080' }).publicUrl).toBe('http://localhost:8080');
    });

    it('treats empty and blank variables as unset', () => {
      expect(loadConfig({ PORT: '', HOST: '   ', LOG_LEVEL: '' })).toMatchObject({ port: 3000, host: '0.0.0.0', logLevel: 'info' });
    });
  });

  describe('explicit values', () => {
    it('reads numbers, URLs and names', () => {
      expect(
        loadConfig({
          PORT: '8080',
          HOST: '127.0.0.1',
          DATABASE_URL: 'postgres://u:p@db:5432/identity',
          SMTP_URL: 'smtp://user:pass@mail:587',
          SMS_WEBHOOK_URL: 'https://sms.example.com/send',
          MAIL_FROM: 'accounts@example.com',
          ACCESS_TOKEN_TTL: '60',
          REFRESH_TOKEN_TTL: '3600',
          REMEMBER_ME_TTL: '7200',
          PASSWORD_MIN_LENGTH: '12',
          DEFAULT_PHONE_REGION: 'us',
          LOG_LEVEL: 'DEBUG',
        }),
      ).toMatchObject({
        port: 8080,
        host: '127.0.0.1',
        databaseUrl: 'postgres://u:p@db:5432/identity',
        smtpUrl: 'smtp://user:pass@mail:587',
        smsWebhookUrl: 'https://sms.example.com/send',
        mailFrom: 'accounts@example.com',
        accessTokenTtl: 60,
        refreshTokenTtl: 3600,
        rememberMeTtl: 7200,
        passwordMinLength: 12,
        defaultPhoneRegion: 'US',
        logLevel: 'debug',
      });
    });

    it('strips trailing slashes from PUBLIC_URL', () => {
      expect(loadConfig({ PUBLIC_URL: 'https://id.example.com/' }).publicUrl).toBe('https://id.example.com');
    });

    it('accepts a postgresql:// DATABASE_URL', () => {
      expect(loadConfig({ DATABASE_URL: 'postgresql://db/identity' }).databaseUrl).toBe('postgresql://db/identity');
    });

    it('accepts IPs and CIDRs of both families in RATE_LIMIT_ALLOWLIST', () => {
      expect(loadConfig({ RATE_LIMIT_ALLOWLIST: '127.0.0.1, 10.0.0.0/8,::1, fd00::/8' }).rateLimitAllowlist).toEqual([
        '127.0.0.1',
        '10.0.0.0/8',
        '::1',
        'fd00::/8',
      ]);
    });
  });

  describe('invalid values fail with a ConfigError naming the variable', () => {
    it.each([
      ['PORT', 'abc'],
      ['PORT', '70000'],
      ['PORT', '-1'],
      ['ACCESS_TOKEN_TTL', '0'],
      ['ACCESS_TOKEN_TTL', '1.5'],
      ['REFRESH_TOKEN_TTL', '0'],
      ['REMEMBER_ME_TTL', 'forever'],
      ['PASSWORD_MIN_LENGTH', '0'],
      ['PASSWORD_MIN_LENGTH', '129'],
      ['DATABASE_URL', 'mysql://x'],
      ['DATABASE_URL', 'not a url'],
      ['DEFAULT_PHONE_REGION', 'XX'],
      ['DEFAULT_PHONE_REGION', 'Russia'],
      ['LOG_LEVEL', 'loud'],
      ['JWT_PRIVATE_KEY', 'garbage'],
      ['RATE_LIMIT_ALLOWLIST', '127.0.0.1,not-an-ip'],
      ['RATE_LIMIT_ALLOWLIST', '10.0.0.0/33'],
      ['RATE_LIMIT_ALLOWLIST', '10.0.0.0/'],
      ['RATE_LIMIT_ALLOWLIST', '::1/129'],
      ['SMTP_URL', 'http://x'],
      ['SMS_WEBHOOK_URL', 'ftp://x'],
      ['PUBLIC_URL', 'localhost:3000'],
    ])('%s=%s', (variable, value) => {
      const error = configError({ [variable]: value });
      expect(error.variable).toBe(variable);
      expect(error.message).toContain(variable);
    });

    it('gives one line', () => {
      expect(configError({ PORT: 'abc' }).message).not.toContain('\n');
    });
  });

  describe('JWT_PRIVATE_KEY', () => {
    it('rejects an EC key on a curve other than P-256', () => {
      const error = configError({ JWT_PRIVATE_KEY: ecKeyPem('secp384r1') });
      expect(error.variable).toBe('JWT_PRIVATE_KEY');
      expect(error.message).toContain('JWT_PRIVATE_KEY');
    });

    it('accepts a P-256 key', () => {
      const pem = ecKeyPem('prime256v1');
      expect(loadConfig({ JWT_PRIVATE_KEY: pem }).jwtPrivateKey).toBe(pem.trim());
    });

    it('accepts an RSA key', () => {
      const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
      expect(loadConfig({ JWT_PRIVATE_KEY: pem }).jwtPrivateKey).toBe(pem.trim());
    });

    it('rejects an Ed25519 key', () => {
      const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      expect(configError({ JWT_PRIVATE_KEY: pem }).variable).toBe('JWT_PRIVATE_KEY');
    });

    it('accepts a key whose newlines are written as "\\n" (one-line environment files)', () => {
      const pem = ecKeyPem('prime256v1').trim();
      expect(loadConfig({ JWT_PRIVATE_KEY: pem.replace(/\n/g, '\\n') }).jwtPrivateKey).toBe(pem);
    });
  });

  describe('TRUST_PROXY', () => {
    it.each([
      [undefined, false],
      ['false', false],
      ['true', true],
      ['2', 2],
      ['10.0.0.0/8', '10.0.0.0/8'],
      ['127.0.0.1,10.0.0.0/8', '127.0.0.1,10.0.0.0/8'],
    ])('%p → %p', (raw, expected) => {
      expect(loadConfig({ TRUST_PROXY: raw }).trustProxy).toStrictEqual(expected);
    });
  });
});

describe('loadConfig: the database pool', () => {
  it('defaults to 20 connections and a 5 s wait', () => {
    expect(loadConfig({}).database).toEqual({ poolSize: 20, poolTimeoutMs: 5000 });
  });

  it('reads DATABASE_POOL_SIZE and DATABASE_POOL_TIMEOUT_MS', () => {
    expect(loadConfig({ DATABASE_POOL_SIZE: '5', DATABASE_POOL_TIMEOUT_MS: '250' }).database).toEqual({ poolSize: 5, poolTimeoutMs: 250 });
  });

  it.each([
    ['DATABASE_POOL_SIZE', '0'],
    ['DATABASE_POOL_SIZE', 'many'],
    ['DATABASE_POOL_TIMEOUT_MS', '0'],
  ])('%s=%s fails naming the variable', (variable, value) => {
    expect(configError({ [variable]: value }).variable).toBe(variable);
  });
});

describe('loadConfig: verification and outbox (SPEC §6)', () => {
  it('defaults to the SPEC values', () => {
    const config = loadConfig({});
    expect(config.verification).toEqual({
      codeTtl: 600,
      emailLinkTtl: 86400,
      passwordResetLinkTtl: 3600,
      maxAttempts: 5,
      smsResendCooldown: 30,
      emailResendCooldown: 60,
    });
    expect(config.outbox).toEqual({ dispatch: true, pollIntervalMs: 1000, maxAttempts: 10, retryBaseMs: 2000 });
  });

  it('reads every override', () => {
    const config = loadConfig({
      VERIFICATION_CODE_TTL: '60',
      EMAIL_CONFIRM_LINK_TTL: '120',
      PASSWORD_RESET_LINK_TTL: '180',
      VERIFICATION_MAX_ATTEMPTS: '3',
      SMS_RESEND_COOLDOWN: '0',
      EMAIL_RESEND_COOLDOWN: '90',
      OUTBOX_DISPATCH: 'false',
      OUTBOX_POLL_INTERVAL_MS: '250',
      OUTBOX_MAX_ATTEMPTS: '4',
      OUTBOX_RETRY_BASE_MS: '500',
    });
    expect(config.verification).toEqual({
      codeTtl: 60,
      emailLinkTtl: 120,
      passwordResetLinkTtl: 180,
      maxAttempts: 3,
      smsResendCooldown: 0,
      emailResendCooldown: 90,
    });
    expect(config.outbox).toEqual({ dispatch: false, pollIntervalMs: 250, maxAttempts: 4, retryBaseMs: 500 });
  });

  it.each([
    ['on', true],
    ['1', true],
    ['YES', true],
    ['off', false],
    ['0', false],
    ['no', false],
  ])('OUTBOX_DISPATCH=%s → %s', (raw, expected) => {
    expect(loadConfig({ OUTBOX_DISPATCH: raw }).outbox.dispatch).toBe(expected);
  });

  it.each([
    ['VERIFICATION_CODE_TTL', '0'],
    ['VERIFICATION_MAX_ATTEMPTS', '101'],
    ['EMAIL_RESEND_COOLDOWN', '-1'],
    ['OUTBOX_DISPATCH', 'maybe'],
    ['OUTBOX_POLL_INTERVAL_MS', '10'],
    ['OUTBOX_RETRY_BASE_MS', 'soon'],
  ])('%s=%s fails naming the variable', (variable, value) => {
    const error = configError({ [variable]: value });
    expect(error.variable).toBe(variable);
    expect(error.message).toContain(variable);
  });
});

describe('loadConfig: limits (SPEC §9 rule 5)', () => {
  it('defaults to the SPEC values', () => {
    const config = loadConfig({});
    expect(config.authRateLimitPerMinute).toBe(30);
    expect(config.limits).toEqual({ profileChangesPerHour: 30, emailsPerDay: 20, smsPerDay: 10, smsGlobalPerHour: 500 });
  });

  it('reads every override', () => {
    const config = loadConfig({
      AUTH_RATE_LIMIT_PER_MINUTE: '5',
      PROFILE_CHANGES_PER_HOUR: '3',
      MAX_EMAILS_PER_DAY: '4',
      MAX_SMS_PER_DAY: '2',
      SMS_GLOBAL_PER_HOUR: '1000',
    });
    expect(config.authRateLimitPerMinute).toBe(5);
    expect(config.limits).toEqual({ profileChangesPerHour: 3, emailsPerDay: 4, smsPerDay: 2, smsGlobalPerHour: 1000 });
  });

  it.each([
    ['AUTH_RATE_LIMIT_PER_MINUTE', '0'],
    ['PROFILE_CHANGES_PER_HOUR', '0'],
    ['PROFILE_CHANGES_PER_HOUR', 'many'],
    ['MAX_EMAILS_PER_DAY', '0'],
    ['MAX_EMAILS_PER_DAY', '2.5'],
    ['MAX_SMS_PER_DAY', '-1'],
    ['SMS_GLOBAL_PER_HOUR', '0'],
    ['SMS_GLOBAL_PER_HOUR', 'unlimited'],
  ])('%s=%s fails naming the variable', (variable, value) => {
    const error = configError({ [variable]: value });
    expect(error.variable).toBe(variable);
    expect(error.message).toContain(variable);
  });

  describe('operations (issue 14)', () => {
    it('reads AUDIT_RETENTION_DAYS, METRICS_TOKEN and SHUTDOWN_GRACE_MS', () => {
      expect(loadConfig({ AUDIT_RETENTION_DAYS: '30', METRICS_TOKEN: 'a-long-enough-token', SHUTDOWN_GRACE_MS: '0' }).operations).toEqual({
        auditRetentionDays: 30,
        metricsToken: 'a-long-enough-token',
        shutdownGraceMs: 0,
      });
    });

    it.each([
      ['AUDIT_RETENTION_DAYS', '0'],
      ['AUDIT_RETENTION_DAYS', 'forever'],
      ['METRICS_TOKEN', 'short'],
      ['METRICS_TOKEN', 'has a space in the middle'],
      ['SHUTDOWN_GRACE_MS', '-1'],
      ['SHUTDOWN_GRACE_MS', '600001'],
    ])('refuses %s=%p, naming it', (variable, value) => {
      expect(configError({ [variable]: value }).variable).toBe(variable);
    });
  });
});

describe('loadConfig: second factors (issue 12)', () => {
  it('defaults: no MFA_ENCRYPTION_KEY (a key is generated and kept in the database), the relying party from PUBLIC_URL', () => {
    expect(loadConfig({}).mfa).toEqual({ encryptionKey: undefined, issuer: 'Identity service', rpId: 'localhost', origins: ['http://localhost:3000'] });
    expect(loadConfig({ PUBLIC_URL: 'https://id.example.com/base/' }).mfa).toMatchObject({ rpId: 'id.example.com', origins: ['https://id.example.com'] });
  });

  it('MFA_ENCRYPTION_KEY: 64 hex digits or base64 of 32 bytes', () => {
    const key = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
    expect(loadConfig({ MFA_ENCRYPTION_KEY: key.toString('hex') }).mfa.encryptionKey).toEqual(key);
    expect(loadConfig({ MFA_ENCRYPTION_KEY: key.toString('base64') }).mfa.encryptionKey).toEqual(key);
    expect(loadConfig({ MFA_ENCRYPTION_KEY: key.toString('base64url') }).mfa.encryptionKey).toEqual(key);
  });

  it('WEBAUTHN_RP_ID and WEBAUTHN_ORIGINS: a domain and the origins on it or its subdomains', () => {
    expect(loadConfig({ WEBAUTHN_RP_ID: 'Example.com', WEBAUTHN_ORIGINS: 'https://example.com, https://login.example.com:8443/' }).mfa).toMatchObject({
      rpId: 'example.com',
      origins: ['https://example.com', 'https://login.example.com:8443'],
    });
  });

  it.each([
    ['MFA_ENCRYPTION_KEY', { MFA_ENCRYPTION_KEY: 'too short' }],
    ['MFA_ENCRYPTION_KEY', { MFA_ENCRYPTION_KEY: Buffer.alloc(16, 7).toString('hex') }],
    ['MFA_ENCRYPTION_KEY', { MFA_ENCRYPTION_KEY: '0'.repeat(64) }],
    ['MFA_ISSUER', { MFA_ISSUER: 'Acme: login' }],
    ['WEBAUTHN_RP_ID', { WEBAUTHN_RP_ID: 'https://example.com' }],
    ['WEBAUTHN_RP_ID', { WEBAUTHN_RP_ID: 'example.com:443' }],
    ['WEBAUTHN_ORIGINS', { WEBAUTHN_ORIGINS: 'example.com' }],
    ['WEBAUTHN_ORIGINS', { WEBAUTHN_ORIGINS: 'https://example.com/login' }],
    ['WEBAUTHN_ORIGINS', { PUBLIC_URL: 'https://id.example.com', WEBAUTHN_ORIGINS: 'https://evil.test' }],
    ['WEBAUTHN_ORIGINS', { WEBAUTHN_RP_ID: 'example.com', WEBAUTHN_ORIGINS: 'https://notexample.com' }],
  ])('%s is refused: %p', (variable, env) => {
    expect(configError(env).variable).toBe(variable);
  });
});
