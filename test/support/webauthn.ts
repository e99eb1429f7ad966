import { createHash, generateKeyPairSync, KeyObject, randomBytes, sign } from 'node:crypto';

/**
 * A software authenticator for the tests: ES256 (P-256) key pairs made with node:crypto, `none`
 * attestation, discoverable credentials (it keeps the user handle), and signed assertions with a
 * signature counter. It does what a browser and a platform authenticator together do for
 * `navigator.credentials.create/get`, answering with the JSON the API takes
 * (`PublicKeyCredential.toJSON()`). `clone()` copies its keys and counters, as an attacker who
 * extracted a key would: the copy's counters then fall behind the original's.
 */

// --- a minimal CBOR encoder (RFC 8949): what attestation objects and COSE keys need ---------------

type Cbor = number | string | Buffer | Map<Cbor, Cbor> | { [key: string]: Cbor };

function head(major: number, value: number): Buffer {
  if (value < 24) return Buffer.from([(major << 5) | value]);
  if (value < 0x100) return Buffer.from([(major << 5) | 24, value]);
  if (value < 0x10000) return Buffer.from([(major << 5) | 25, value >> 8, value & 0xff]);
  const out = Buffer.alloc(5);
  out[0] = (major << 5) | 26;
  out.writeUInt32BE(value, 1);
  return out;
}

export function cbor(value: Cbor): Buffer {
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, bytes.length), bytes]);
  }
  if (Buffer.isBuffer(value)) return Buffer.concat([head(2, value.length), value]);
  const entries = value instanceof Map ? [...value.entries()] : Object.entries(value);
  return Buffer.concat([head(5, entries.length), ...entries.flatMap(([key, inner]) => [cbor(key), cbor(inner)])]);
}

// --- the authenticator --------------------------------------------------------------------------

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_AT = 0x40;

interface StoredCredential {
  id: Buffer;
  privateKey: KeyObject;
  publicKey: KeyObject;
  rpId: string;
  userHandle: string;
  counter: number;
}

/** The creation options the API hands out (PublicKeyCredentialCreationOptionsJSON), as far as the authenticator reads them. */
export interface CreationOptions {
  challenge: string;
  rp: { id?: string; name: string };
  user: { id: string; name: string; displayName: string };
  excludeCredentials?: { id: string }[];
}

/** The request options (PublicKeyCredentialRequestOptionsJSON). */
export interface RequestOptions {
  challenge: string;
  rpId?: string;
  allowCredentials?: { id: string }[];
}

export interface AssertionOptions {
  /** Which credential to use (default: the first one allowed for the relying party). */
  credentialId?: string;
  /** Whether the authenticator verified the user (PIN, biometrics). Default true. */
  userVerified?: boolean;
  /** Sign for another origin than the authenticator's (a phishing page). */
  origin?: string;
  /** Sign another challenge than the options' (a replayed assertion). */
  challenge?: string;
}

const b64url = (bytes: Buffer) => bytes.toString('base64url');

export class SoftAuthenticator {
  private readonly credentials: StoredCredential[] = [];

  /** `origin`: where the "browser" runs (must be among WEBAUTHN_ORIGINS); the relying party id defaults to its host. */
  constructor(readonly origin: string) {}

  get ids(): string[] {
    return this.credentials.map((credential) => b64url(credential.id));
  }

  counterOf(credentialId: string): number {
    return this.find(credentialId).counter;
  }

  /** `navigator.credentials.create`: a new discoverable credential, `none` attestation. */
  create(options: CreationOptions, { origin = this.origin }: { origin?: string } = {}) {
    const rpId = options.rp.id ?? new URL(this.origin).hostname;
    if (options.excludeCredentials?.some((excluded) => this.credentials.some((c) => b64url(c.id) === excluded.id))) {
      throw new Error('InvalidStateError: this authenticator holds an excluded credential');
    }
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const credential: StoredCredential = { id: randomBytes(32), privateKey, publicKey, rpId, userHandle: options.user.id, counter: 0 };
    this.credentials.push(credential);

    const jwk = publicKey.export({ format: 'jwk' });
    const coseKey = cbor(
      new Map<Cbor, Cbor>([
        [1, 2], // kty: EC2
        [3, -7], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, Buffer.from(jwk.x!, 'base64url')],
        [-3, Buffer.from(jwk.y!, 'base64url')],
      ]),
    );
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(credential.id.length);
    const authData = Buffer.concat([
      this.rpIdHash(rpId),
      Buffer.from([FLAG_UP | FLAG_UV | FLAG_AT]),
      this.counterBytes(credential.counter),
      Buffer.alloc(16),
      idLength,
      credential.id,
      coseKey,
    ]);
    const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.create', challenge: options.challenge, origin, crossOrigin: false }));
    return {
      id: b64url(credential.id),
      rawId: b64url(credential.id),
      type: 'public-key' as const,
      response: {
        clientDataJSON: b64url(clientDataJSON),
        attestationObject: b64url(cbor({ fmt: 'none', attStmt: {}, authData })),
        transports: ['internal'],
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform' as const,
    };
  }

  /** `navigator.credentials.get`: an assertion over the options' challenge; the counter goes up by one. */
  get(options: RequestOptions, { credentialId, userVerified = true, origin = this.origin, challenge = options.challenge }: AssertionOptions = {}) {
    const rpId = options.rpId ?? new URL(this.origin).hostname;
    const allowed = options.allowCredentials?.length ? options.allowCredentials.map((c) => c.id) : null;
    const credential = credentialId ? this.find(credentialId) : this.credentials.find((c) => c.rpId === rpId && (!allowed || allowed.includes(b64url(c.id))));
    if (!credential) throw new Error('NotAllowedError: no credential for this relying party');
    credential.counter += 1;
    const authenticatorData = Buffer.concat([
      this.rpIdHash(rpId),
      Buffer.from([FLAG_UP | (userVerified ? FLAG_UV : 0)]),
      this.counterBytes(credential.counter),
    ]);
    const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge, origin, crossOrigin: false }));
    const signed = Buffer.concat([authenticatorData, createHash('sha256').update(clientDataJSON).digest()]);
    return {
      id: b64url(credential.id),
      rawId: b64url(credential.id),
      type: 'public-key' as const,
      response: {
        clientDataJSON: b64url(clientDataJSON),
        authenticatorData: b64url(authenticatorData),
        signature: b64url(sign('sha256', signed, credential.privateKey)), // DER-encoded ECDSA, as WebAuthn has it
        userHandle: credential.userHandle,
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform' as const,
    };
  }

  /** A copy with the same keys and counters: what an extracted key gives an attacker. */
  clone(): SoftAuthenticator {
    const copy = new SoftAuthenticator(this.origin);
    copy.credentials.push(...this.credentials.map((credential) => ({ ...credential })));
    return copy;
  }

  private find(credentialId: string): StoredCredential {
    const found = this.credentials.find((c) => b64url(c.id) === credentialId);
    if (!found) throw new Error(`no credential ${credentialId}`);
    return found;
  }

  private rpIdHash(rpId: string): Buffer {
    return createHash('sha256').update(rpId).digest();
  }

  private counterBytes(counter: number): Buffer {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(counter);
    return out;
  }
}
