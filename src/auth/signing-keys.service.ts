import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, JsonWebKey, KeyObject } from 'node:crypto';
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { SigningKey } from './signing-key.entity';

export type JwtAlgorithm = 'ES256' | 'RS256';

interface LoadedKey {
  kid: string;
  algorithm: JwtAlgorithm;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

// Serialises first-start key generation across instances sharing the database.
const KEY_GENERATION_LOCK = 7_462_315_002;
/**
 * An unknown `kid` reloads the keys from the database at most this often (SPEC §9 rule 7): tokens
 * with made-up kids are answered from memory, not with a query each. A key another instance has
 * just added is still found within this delay.
 */
export const UNKNOWN_KID_RELOAD_INTERVAL_MS = 10_000;

/**
 * The JWT signing key: JWT_PRIVATE_KEY when set, else one ES256 key generated on first start and
 * stored in the database, so every instance signs and verifies with the same key. Keys are
 * identified by `kid` (RFC 7638 thumbprint) and published at /.well-known/jwks.json.
 */
@Injectable()
export class SigningKeysService implements OnModuleInit {
  private current: LoadedKey;
  private readonly byKid = new Map<string, LoadedKey>();
  private lastUnknownKidReload = -Infinity;
  private unknownKidReload?: Promise<void>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.config.jwtPrivateKey) {
      this.current = this.remember(createPrivateKey(this.config.jwtPrivateKey));
      return;
    }
    await this.reloadFromDatabase();
    if (!this.current) {
      await this.dataSource.transaction(async (manager) => {
        await manager.query('SELECT pg_advisory_xact_lock($1)', [KEY_GENERATION_LOCK]);
        if (await manager.count(SigningKey)) return; // another instance won the race
        const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
        const key = this.remember(privateKey);
        await manager.insert(SigningKey, {
          kid: key.kid,
          algorithm: key.algorithm,
          privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
        });
      });
      await this.reloadFromDatabase();
    }
  }

  signingKey(): LoadedKey {
    return this.current;
  }

  /** The public key for a `kid` this instance already knows, without waiting (the token check's fast path). */
  knownPublicKey(kid: unknown): { key: KeyObject; algorithm: JwtAlgorithm } | undefined {
    const found = typeof kid === 'string' ? this.byKid.get(kid) : undefined;
    return found && { key: found.publicKey, algorithm: found.algorithm };
  }

  /** The public key for `kid`; an unknown one looks in the database for keys another instance added, at most once per interval. */
  async publicKey(kid: unknown): Promise<{ key: KeyObject; algorithm: JwtAlgorithm } | undefined> {
    if (typeof kid !== 'string' || !kid) return undefined;
    if (!this.byKid.has(kid) && !this.config.jwtPrivateKey) await this.reloadForUnknownKid();
    const found = this.byKid.get(kid);
    return found && { key: found.publicKey, algorithm: found.algorithm };
  }

  /** Concurrent callers share one reload; later ones within the interval get none. */
  private reloadForUnknownKid(): Promise<void> {
    if (this.unknownKidReload) return this.unknownKidReload;
    const now = Date.now();
    if (now - this.lastUnknownKidReload < UNKNOWN_KID_RELOAD_INTERVAL_MS) return Promise.resolve();
    this.lastUnknownKidReload = now;
    this.unknownKidReload = this.reloadFromDatabase().finally(() => (this.unknownKidReload = undefined));
    return this.unknownKidReload;
  }

  jwks(): { keys: JsonWebKey[] } {
    return {
      keys: [...this.byKid.values()].map(({ kid, algorithm, publicKey }) => ({
        ...publicKey.export({ format: 'jwk' }),
        kid,
        alg: algorithm,
        use: 'sig',
      })),
    };
  }

  private async reloadFromDatabase(): Promise<void> {
    const rows = await this.dataSource.getRepository(SigningKey).find({ order: { createdAt: 'DESC' } });
    rows.forEach((row, index) => {
      const key = this.byKid.get(row.kid) ?? this.remember(createPrivateKey(row.privateKeyPem));
      if (index === 0) this.current = key;
    });
  }

  private remember(privateKey: KeyObject): LoadedKey {
    const publicKey = createPublicKey(privateKey);
    const algorithm: JwtAlgorithm = privateKey.asymmetricKeyType === 'ec' ? 'ES256' : 'RS256';
    const key = { kid: thumbprint(publicKey), algorithm, privateKey, publicKey };
    this.byKid.set(key.kid, key);
    return key;
  }
}

/** RFC 7638 JWK thumbprint, base64url. */
function thumbprint(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  const members = jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { e: jwk.e, kty: jwk.kty, n: jwk.n };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}
