import { randomBytes } from 'node:crypto';
import { ServerSecretsService } from '../auth/server-secrets.service';
import { AppConfig } from '../config/app-config';
import { MFA_KEY_SECRET, SecretBox } from './secret-box.service';

/** server_secrets over a Map: `ensure` generates once, `find` never does. */
class InMemorySecrets {
  readonly rows = new Map<string, Buffer>();
  readonly ensure = jest.fn(async (name: string) => {
    if (!this.rows.has(name)) this.rows.set(name, randomBytes(32));
    return this.rows.get(name)!;
  });
  readonly find = jest.fn(async (name: string) => this.rows.get(name) ?? null);
}

async function box(secrets: InMemorySecrets, encryptionKey?: Buffer): Promise<SecretBox> {
  const sealed = new SecretBox(secrets as unknown as ServerSecretsService, { mfa: { encryptionKey } } as AppConfig);
  await sealed.onModuleInit();
  return sealed;
}

describe('SecretBox (AES-256-GCM for TOTP secrets)', () => {
  it('without MFA_ENCRYPTION_KEY: a key generated once in server_secrets; values open with their context only', async () => {
    const secrets = new InMemorySecrets();
    const a = await box(secrets);
    const sealed = a.seal('JBSWY3DPEHPK3PXP', 'totp:user-1');
    expect(secrets.ensure).toHaveBeenCalledWith(MFA_KEY_SECRET);
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('JBSWY3DPEHPK3PXP');
    expect(a.seal('JBSWY3DPEHPK3PXP', 'totp:user-1')).not.toBe(sealed); // a fresh IV each time
    // Another instance on the same database opens it.
    expect((await box(secrets)).open(sealed, 'totp:user-1')).toBe('JBSWY3DPEHPK3PXP');
    // Copied into another account's row, it does not open.
    expect(() => a.open(sealed, 'totp:user-2')).toThrow();
  });

  it('refuses a tampered value', async () => {
    const a = await box(new InMemorySecrets());
    const parts = a.seal('secret', 'ctx').split('.');
    const ciphertext = Buffer.from(parts[3], 'base64url');
    ciphertext[0] ^= 1;
    parts[3] = ciphertext.toString('base64url');
    expect(() => a.open(parts.join('.'), 'ctx')).toThrow();
  });

  it('with MFA_ENCRYPTION_KEY: new values use it and no key is generated; values sealed under the stored key still open', async () => {
    const secrets = new InMemorySecrets();
    const before = (await box(secrets)).seal('old secret', 'ctx');
    const key = randomBytes(32);
    const configured = await box(secrets, key);
    const after = configured.seal('new secret', 'ctx');
    expect(configured.open(before, 'ctx')).toBe('old secret');
    expect(configured.open(after, 'ctx')).toBe('new secret');
    expect(after.split('.')[1]).not.toBe(before.split('.')[1]);

    const fresh = new InMemorySecrets();
    const only = await box(fresh, key);
    expect(fresh.ensure).not.toHaveBeenCalled();
    expect(only.open(after, 'ctx')).toBe('new secret');
    // Without the configured key, its values do not open.
    expect(() => new SecretBox(fresh as unknown as ServerSecretsService, { mfa: {} } as AppConfig).open(after, 'ctx')).toThrow();
  });
});
