import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { ServerSecretsService } from '../auth/server-secrets.service';
import { APP_CONFIG, AppConfig } from '../config/app-config';

/** The name of the generated key in `server_secrets`, used when MFA_ENCRYPTION_KEY is unset. */
export const MFA_KEY_SECRET = 'mfa-encryption-key';
const VERSION = 'v1';

/** A short, non-secret id of a key, stored with each sealed value so the right key opens it. */
function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 8);
}

/**
 * Seals the secrets a second factor needs in the clear at every use (TOTP keys) with AES-256-GCM:
 * `v1.<key id>.<iv>.<ciphertext>.<tag>`, base64url, with the owner and purpose as associated data,
 * so a sealed value copied into another account's row does not open. The key is
 * MFA_ENCRYPTION_KEY, else one generated on first start and kept in `server_secrets` (shared by
 * every instance, like the signing key). Values sealed under the stored key still open after
 * MFA_ENCRYPTION_KEY is set (new ones use the configured key).
 */
@Injectable()
export class SecretBox implements OnModuleInit {
  private readonly keys = new Map<string, Buffer>();
  private current: { id: string; key: Buffer };

  constructor(
    private readonly serverSecrets: ServerSecretsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    const configured = this.config.mfa.encryptionKey;
    const stored = configured ? await this.serverSecrets.find(MFA_KEY_SECRET) : await this.serverSecrets.ensure(MFA_KEY_SECRET);
    if (stored) this.use(stored);
    if (configured) this.use(configured);
  }

  seal(plaintext: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, this.current.id, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  /** The plaintext, or an error when the value is not ours, was tampered with, belongs to another context, or its key is gone. */
  open(sealed: string, context: string): string {
    const [version, id, iv, ciphertext, tag] = sealed.split('.');
    const key = this.keys.get(id);
    if (version !== VERSION || !key || !iv || !ciphertext || !tag) throw new Error('sealed secret: unknown format or key');
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  }

  private use(key: Buffer): void {
    this.current = { id: keyId(key), key };
    this.keys.set(this.current.id, key);
  }
}
