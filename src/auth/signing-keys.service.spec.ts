import { generateKeyPairSync } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { SigningKeysService, UNKNOWN_KID_RELOAD_INTERVAL_MS } from './signing-keys.service';

describe('SigningKeysService: unknown kids', () => {
  const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  let find: jest.Mock;
  let service: SigningKeysService;
  let now: number;

  beforeEach(async () => {
    now = 1_000_000;
    jest.spyOn(Date, 'now').mockImplementation(() => now);
    find = jest.fn().mockResolvedValue([{ kid: 'stored', privateKeyPem: pem, createdAt: new Date() }]);
    const dataSource = { getRepository: () => ({ find }) } as unknown as DataSource;
    service = new SigningKeysService({} as AppConfig, dataSource);
    await service.onModuleInit();
    find.mockClear();
  });

  afterEach(() => jest.restoreAllMocks());

  it('reloads from the database at most once per interval, however many unknown kids arrive', async () => {
    await Promise.all(Array.from({ length: 50 }, (_, i) => service.publicKey(`made-up-${i}`)));
    for (let i = 0; i < 50; i++) expect(await service.publicKey(`another-${i}`)).toBeUndefined();
    expect(find).toHaveBeenCalledTimes(1);

    now += UNKNOWN_KID_RELOAD_INTERVAL_MS - 1;
    await service.publicKey('still-unknown');
    expect(find).toHaveBeenCalledTimes(1);

    now += 1;
    await service.publicKey('still-unknown');
    await service.publicKey('and-again');
    expect(find).toHaveBeenCalledTimes(2);
  });

  it('finds a key another instance added, on the next reload', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const known = service.signingKey().kid;
    find.mockResolvedValue([{ privateKeyPem: pem }, { privateKeyPem: other }].map((row, i) => ({ ...row, kid: i ? 'other' : known, createdAt: new Date() })));
    const jwks = () => service.jwks().keys.map((key) => key.kid);
    expect(jwks()).toEqual([known]);
    await service.publicKey('the new one'); // an unknown kid triggers the reload that picks the new key up
    expect(jwks()).toHaveLength(2);
  });

  it('never queries for a known kid or a kid that is not a string', async () => {
    expect(await service.publicKey(service.signingKey().kid)).toBeDefined();
    expect(await service.publicKey({ not: 'a string' } as unknown as string)).toBeUndefined();
    expect(await service.publicKey(undefined)).toBeUndefined();
    expect(find).not.toHaveBeenCalled();
  });
});
