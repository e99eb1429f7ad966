import { createPrivateKey } from 'node:crypto';
import { isIP } from 'node:net';
import { CountryCode, getCountries } from 'libphonenumber-js';

/** The validated environment (SPEC §3): one typed object, built once at boot. */
export interface AppConfig {
  port: number;
  host: string;
  /** Unset: the embedded PostgreSQL under `.data/` is started (see database/embedded-postgres.ts). */
  databaseUrl?: string;
  database: DatabasePoolConfig;
  smtpUrl?: string;
  mailFrom: string;
  smsWebhookUrl?: string;
  publicUrl: string;
  jwtPrivateKey?: string;
  accessTokenTtl: number;
  refreshTokenTtl: number;
  rememberMeTtl: number;
  passwordMinLength: number;
  defaultPhoneRegion: CountryCode;
  logLevel: string;
  rateLimitAllowlist: string[];
  trustProxy: boolean | string | number;
  /** Seconds during which an already-rotated refresh token may be retried (SPEC §5). */
  refreshReuseGraceSeconds: number;
  /** Seconds a sign-in counts as fresh proof for sensitive /v1 changes (SPEC §9 rule 4). */
  reauthMaxAge: number;
  /**
   * Per-client budget per minute: of the sign-in routes of every surface together, and of each
   * other per-IP limited route (registration, refresh, codes and recovery) on its own.
   */
  authRateLimitPerMinute: number;
  limits: LimitsConfig;
  verification: VerificationConfig;
  outbox: OutboxConfig;
  mfa: MfaConfig;
  operations: OperationsConfig;
}

/** Second factors (TOTP, passkeys) and the key their secrets are sealed with. */
export interface MfaConfig {
  /** MFA_ENCRYPTION_KEY: 32 bytes for AES-256-GCM; unset → a key generated once and kept in the database. */
  encryptionKey?: Buffer;
  /** The name authenticator apps and passkey prompts show (TOTP issuer, WebAuthn relying-party name). */
  issuer: string;
  /** WebAuthn relying-party id: a registrable domain (PUBLIC_URL's host by default). */
  rpId: string;
  /** Origins whose passkey ceremonies are accepted (PUBLIC_URL's origin by default). */
  origins: string[];
}

/** The audit log, metrics and shutdown (issue 14). */
export interface OperationsConfig {
  /** Days a security event is kept; older ones are deleted by the hourly housekeeping. */
  auditRetentionDays: number;
  /** Bearer token `GET /metrics` requires; unset: /metrics answers only loopback clients that came through no proxy. */
  metricsToken?: string;
  /** How long SIGTERM waits for in-flight requests (and outbox deliveries) before cutting them off. */
  shutdownGraceMs: number;
}

/** The connection pool of one instance. */
export interface DatabasePoolConfig {
  /** Connections this instance may hold at once. */
  poolSize: number;
  /** How long a request waits for a free connection before it is answered 503. */
  poolTimeoutMs: number;
}

/** Per-account and global budgets (SPEC §9 rule 5), counted in PostgreSQL so every instance shares them. */
export interface LimitsConfig {
  /** Profile-update requests one account may make per hour, over every surface together. */
  profileChangesPerHour: number;
  /** E-mails one account may cause per day (codes, links and notices). */
  emailsPerDay: number;
  /** SMS one account may cause per day. */
  smsPerDay: number;
  /** SMS the whole service may send per hour (against SMS pumping). */
  smsGlobalPerHour: number;
}

/** One-time secrets (SPEC §6); every duration in seconds. */
export interface VerificationConfig {
  codeTtl: number;
  emailLinkTtl: number;
  passwordResetLinkTtl: number;
  maxAttempts: number;
  smsResendCooldown: number;
  emailResendCooldown: number;
}

/** The durable outbox dispatcher. */
export interface OutboxConfig {
  /** Off: this instance only writes messages; another instance delivers them. */
  dispatch: boolean;
  pollIntervalMs: number;
  maxAttempts: number;
  /** First retry delay; doubles per failed attempt, at most one hour. */
  retryBaseMs: number;
}

export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    reason: string,
  ) {
    super(`Invalid configuration: ${variable} ${reason}`);
  }
}

export const DEFAULT_POOL: DatabasePoolConfig = { poolSize: 20, poolTimeoutMs: 5000 };

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function loadConfig(env: Env = process.env): AppConfig {
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === '' ? undefined : value;
  };
  const int = (name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      throw new ConfigError(name, `must be a whole number from ${min} to ${max} (got "${raw}")`);
    }
    return Number(raw);
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = read(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['true', '1', 'on', 'yes'].includes(raw)) return true;
    if (['false', '0', 'off', 'no'].includes(raw)) return false;
    throw new ConfigError(name, `must be true or false (got "${raw}")`);
  };
  const url = (name: string, protocols: string[]): string | undefined => {
    const raw = read(name);
    if (raw === undefined) return undefined;
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw new ConfigError(name, 'must be a URL');
    }
    if (!protocols.includes(parsed.protocol)) {
      throw new ConfigError(name, `must use ${protocols.join(' or ')}`);
    }
    return raw;
  };

  const port = int('PORT', 3000, 0, 65535);
  const host = read('HOST') ?? '0.0.0.0';

  const region = (read('DEFAULT_PHONE_REGION') ?? 'RU').toUpperCase();
  if (!(getCountries() as string[]).includes(region)) {
    throw new ConfigError('DEFAULT_PHONE_REGION', `must be an ISO 3166-1 alpha-2 region such as RU or US (got "${region}")`);
  }

  const logLevel = (read('LOG_LEVEL') ?? 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  }

  const jwtPrivateKey = read('JWT_PRIVATE_KEY')?.replace(/\\n/g, '\n');
  if (jwtPrivateKey !== undefined) {
    let key: ReturnType<typeof createPrivateKey>;
    try {
      key = createPrivateKey(jwtPrivateKey);
    } catch {
      throw new ConfigError('JWT_PRIVATE_KEY', 'must be a PEM private key');
    }
    const isP256 = key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
    if (!isP256 && key.asymmetricKeyType !== 'rsa') {
      throw new ConfigError('JWT_PRIVATE_KEY', 'must be an EC P-256 (ES256) or RSA (RS256) key');
    }
  }

  const publicUrl = (url('PUBLIC_URL', ['http:', 'https:']) ?? `http://localhost:${port}`).replace(/\/+$/, '');

  const rateLimitAllowlist = (read('RATE_LIMIT_ALLOWLIST') ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const entry of rateLimitAllowlist) {
    const [address, bits] = entry.split('/');
    const family = isIP(address);
    const maxBits = family === 6 ? 128 : 32;
    if (!family || (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= maxBits))) {
      throw new ConfigError('RATE_LIMIT_ALLOWLIST', `has an entry that is not an IP or CIDR: "${entry}"`);
    }
  }

  const metricsToken = read('METRICS_TOKEN');
  if (metricsToken !== undefined && (metricsToken.length < 16 || /\s/.test(metricsToken))) {
    throw new ConfigError('METRICS_TOKEN', 'must be at least 16 characters without spaces');
  }

  return {
    port,
    host,
    databaseUrl: url('DATABASE_URL', ['postgres:', 'postgresql:']),
    database: {
      poolSize: int('DATABASE_POOL_SIZE', DEFAULT_POOL.poolSize, 1, 1000),
      poolTimeoutMs: int('DATABASE_POOL_TIMEOUT_MS', DEFAULT_POOL.poolTimeoutMs, 100, 600_000),
    },
    smtpUrl: url('SMTP_URL', ['smtp:', 'smtps:']),
    mailFrom: read('MAIL_FROM') ?? 'no-reply@localhost',
    smsWebhookUrl: url('SMS_WEBHOOK_URL', ['http:', 'https:']),
    publicUrl,
    jwtPrivateKey,
    accessTokenTtl: int('ACCESS_TOKEN_TTL', 900, 1),
    refreshTokenTtl: int('REFRESH_TOKEN_TTL', 86400, 1),
    rememberMeTtl: int('REMEMBER_ME_TTL', 2592000, 1),
    passwordMinLength: int('PASSWORD_MIN_LENGTH', 8, 1, 128),
    defaultPhoneRegion: region as CountryCode,
    logLevel,
    rateLimitAllowlist,
    trustProxy: parseTrustProxy(read('TRUST_PROXY')),
    refreshReuseGraceSeconds: int('REFRESH_REUSE_GRACE_SECONDS', 5, 0, 60),
    authRateLimitPerMinute: int('AUTH_RATE_LIMIT_PER_MINUTE', 30, 1),
    reauthMaxAge: int('REAUTH_MAX_AGE', 300, 0, 86_400),
    limits: {
      profileChangesPerHour: int('PROFILE_CHANGES_PER_HOUR', 30, 1),
      emailsPerDay: int('MAX_EMAILS_PER_DAY', 20, 1),
      smsPerDay: int('MAX_SMS_PER_DAY', 10, 1),
      smsGlobalPerHour: int('SMS_GLOBAL_PER_HOUR', 500, 1),
    },
    verification: {
      codeTtl: int('VERIFICATION_CODE_TTL', 600, 1),
      emailLinkTtl: int('EMAIL_CONFIRM_LINK_TTL', 86400, 1),
      passwordResetLinkTtl: int('PASSWORD_RESET_LINK_TTL', 3600, 1),
      maxAttempts: int('VERIFICATION_MAX_ATTEMPTS', 5, 1, 100),
      smsResendCooldown: int('SMS_RESEND_COOLDOWN', 30, 0),
      emailResendCooldown: int('EMAIL_RESEND_COOLDOWN', 60, 0),
    },
    outbox: {
      dispatch: bool('OUTBOX_DISPATCH', true),
      pollIntervalMs: int('OUTBOX_POLL_INTERVAL_MS', 1000, 50, 60_000),
      maxAttempts: int('OUTBOX_MAX_ATTEMPTS', 10, 1, 100),
      retryBaseMs: int('OUTBOX_RETRY_BASE_MS', 2000, 10, 3_600_000),
    },
    mfa: loadMfaConfig(read, publicUrl),
    operations: {
      auditRetentionDays: int('AUDIT_RETENTION_DAYS', 365, 1, 36_500),
      metricsToken,
      shutdownGraceMs: int('SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
    },
  };
}

/**
 * MFA_ENCRYPTION_KEY (32 bytes: 64 hex digits or base64), MFA_ISSUER, and the WebAuthn relying
 * party: WEBAUTHN_RP_ID (a domain) and WEBAUTHN_ORIGINS (comma-separated origins, each on that
 * domain or a subdomain of it, as WebAuthn requires), both from PUBLIC_URL by default.
 */
function loadMfaConfig(read: (name: string) => string | undefined, publicUrl: string): MfaConfig {
  const rawKey = read('MFA_ENCRYPTION_KEY');
  let encryptionKey: Buffer | undefined;
  if (rawKey !== undefined) {
    encryptionKey = /^[0-9a-fA-F]{64}$/.test(rawKey)
      ? Buffer.from(rawKey, 'hex')
      : /^[A-Za-z0-9+/_-]{43}=?$/.test(rawKey)
        ? Buffer.from(rawKey, 'base64')
        : undefined;
    if (encryptionKey?.length !== 32) throw new ConfigError('MFA_ENCRYPTION_KEY', 'must be 32 bytes: 64 hex digits or base64 (e.g. `openssl rand -base64 32`)');
    if (encryptionKey.every((byte) => byte === encryptionKey![0])) throw new ConfigError('MFA_ENCRYPTION_KEY', 'must be random, not a repeated byte');
  }
  const issuer = read('MFA_ISSUER') ?? 'Identity service';
  if (issuer.length > 64 || issuer.includes(':')) throw new ConfigError('MFA_ISSUER', 'must be at most 64 characters and contain no ":"');

  const explicitRpId = read('WEBAUTHN_RP_ID')?.toLowerCase();
  const rpId = explicitRpId ?? new URL(publicUrl).hostname.toLowerCase();
  if (explicitRpId !== undefined && !/^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(rpId)) {
    throw new ConfigError('WEBAUTHN_RP_ID', `must be a domain name without scheme or port, e.g. example.com (got "${rpId}")`);
  }
  const origins = (read('WEBAUTHN_ORIGINS') ?? new URL(publicUrl).origin)
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      let origin: URL;
      try {
        origin = new URL(entry);
      } catch {
        throw new ConfigError('WEBAUTHN_ORIGINS', `has an entry that is not an origin: "${entry}"`);
      }
      if (!['http:', 'https:'].includes(origin.protocol) || origin.pathname !== '/' || origin.search || origin.hash || origin.username) {
        throw new ConfigError('WEBAUTHN_ORIGINS', `has an entry that is not an origin (scheme://host[:port], no path): "${entry}"`);
      }
      const host = origin.hostname.toLowerCase();
      if (host !== rpId && !host.endsWith(`.${rpId}`)) {
        throw new ConfigError('WEBAUTHN_ORIGINS', `has an origin outside WEBAUTHN_RP_ID ${rpId}: "${entry}"`);
      }
      return origin.origin;
    });
  if (origins.length === 0) throw new ConfigError('WEBAUTHN_ORIGINS', 'must list at least one origin');
  return { encryptionKey, issuer, rpId, origins };
}

/** Fastify's `trustProxy` syntax: true/false, a hop count, or a comma-separated list of IPs/CIDRs. */
function parseTrustProxy(raw: string | undefined): boolean | string | number {
  if (raw === undefined || raw === 'false' || raw === 'off') return false;
  if (raw === 'true') return true;
  if (/^\d+$/.test(raw)) return Number(raw);
  return raw;
}

/** Injection token for the validated configuration. */
export const APP_CONFIG = Symbol('APP_CONFIG');
