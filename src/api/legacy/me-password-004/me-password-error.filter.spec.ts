import { ArgumentsHost, Logger } from '@nestjs/common';
import { QueryFailedError, TypeORMError } from 'typeorm';
import { DomainError } from '../../../common/domain-error';
import { serializeError } from '../../../common/logging';
import { codeOf, MePasswordErrorFilter, missingField } from './me-password-error.filter';

/** Runs the filter on `exception` and returns what it answered. */
function answer(exception: unknown): { status: number; body: Record<string, unknown>; headers: Record<string, string> } {
  const sent = { status: 0, body: {} as Record<string, unknown>, headers: {} as Record<string, string> };
  const reply = {
    status: (code: number) => ((sent.status = code), reply),
    type: () => reply,
    header: (name: string, value: string) => ((sent.headers[name] = value), reply),
    getHeader: () => undefined,
    send: (payload: string) => ((sent.body = JSON.parse(payload)), reply),
  };
  const host = { switchToHttp: () => ({ getResponse: () => reply, getRequest: () => ({}) }) } as unknown as ArgumentsHost;
  new MePasswordErrorFilter().catch(exception, host);
  return sent;
}

/** What the filter hands the logger (a stub: the run stays quiet), and what pino would write of each `err`. */
let logged: Array<{ entry: { err?: unknown }; message: string; written: string }>;

beforeEach(() => {
  logged = [];
  jest.spyOn(Logger.prototype, 'error').mockImplementation((entry: { err?: unknown }, message: string) => {
    logged.push({ entry, message, written: JSON.stringify(serializeError(entry.err)) });
  });
});
afterEach(() => jest.restoreAllMocks());

describe('004 error codes', () => {
  it.each([
    [missingField('password'), 21007],
    [missingField('newPassword'), 21007],
    [missingField('code'), 21008],
    [missingField('phone'), 21009],
    [DomainError.validation([{ field: 'phone', message: 'phone must be a string' }]), 21013],
    [new DomainError('InvalidPhone', 'phone must be a valid phone number'), 21013],
    [new DomainError('MalformedBody', 'the request body is not valid JSON'), 21003],
    [new DomainError('AccountBlocked', 'this account is blocked'), 21010],
    [new DomainError('ResendTooSoon', 'wait', { retryAfterSeconds: 12 }), 21011],
    [new DomainError('WrongPassword', 'wrong'), 21014],
    [new DomainError('WeakPassword', 'too short'), 21014],
    [new DomainError('InvalidToken', 'invalid'), 21015],
    [new DomainError('InvalidCode', 'wrong code'), 21015],
    [new DomainError('HttpError', 'body too large', { status: 413 }), 21002],
  ])('%s → %i', (error, code) => {
    expect(codeOf(error)).toBe(code);
  });

  it('21011 carries the seconds left in the body and in Retry-After', () => {
    const sent = answer(new DomainError('ResendTooSoon', 'wait', { retryAfterSeconds: 12.2 }));
    expect(sent).toEqual({ status: 429, body: { code: 21011, message: 'wait', timeout: 13 }, headers: { 'Retry-After': '13' } });
  });

  it("the caller's faults are answered without logging an error", () => {
    answer(new DomainError('InvalidCode', 'wrong code'));
    answer(missingField('phone'));
    expect(logged).toEqual([]);
  });

  it('database failures are 5xx: 21001 without a connection, 21005 for a failed query, 21004 for a query that could not be built; each is logged once', () => {
    const warned: unknown[] = [];
    jest.spyOn(Logger.prototype, 'warn').mockImplementation((entry: unknown) => void warned.push(entry));
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(answer(refused)).toMatchObject({ status: 503, body: { code: 21001 } });
    expect(answer(new Error('Connection terminated unexpectedly'))).toMatchObject({ status: 503, body: { code: 21001 } });
    expect(answer(new QueryFailedError('UPDATE users …', [], new Error('deadlock detected')))).toMatchObject({ status: 500, body: { code: 21005 } });
    expect(answer(new TypeORMError('Cannot build query'))).toMatchObject({ status: 500, body: { code: 21004 } });

    // No connection is a 503 the client may retry: one warning for the burst, not an error per request.
    expect(warned).toEqual([{ reason: 'connect ECONNREFUSED 127.0.0.1:5432', refusedSinceLastLine: 0 }]);
    expect(logged.map(({ message }) => message)).toEqual(Array(2).fill('unhandled error'));
    expect(logged.map(({ written }) => JSON.parse(written).message)).toEqual(['deadlock detected', 'Cannot build query']);
  });

  it("a 5xx says nothing about the cause, and its log line (through the app's err serializer) carries no SQL and no bound value (SPEC §9.7)", () => {
    const driverError = Object.assign(new Error('duplicate key value violates unique constraint "UQ_users_email_lower"'), {
      code: '23505',
      constraint: 'UQ_users_email_lower',
      detail: 'Key (lower(email::text))=(anna@example.com) already exists.',
    });
    const sent = answer(new QueryFailedError('UPDATE users SET password_hash = $1, email = $2', ['$argon2id$secret', 'anna@example.com'], driverError));
    expect(JSON.stringify(sent.body)).not.toMatch(/argon2|UPDATE|duplicate|anna/);

    expect(logged).toHaveLength(1);
    const written = JSON.parse(logged[0].written);
    expect(written).toMatchObject({ type: 'QueryFailedError', sqlState: '23505', constraint: 'UQ_users_email_lower' });
    expect(logged[0].written).not.toMatch(/argon2|anna@example\.com|UPDATE|Key \(/);
  });

  it("a data error's log line does not repeat the value PostgreSQL quotes in its message", () => {
    const driverError = Object.assign(new Error('invalid input syntax for type uuid: "secret-looking-input"'), { code: '22P02' });
    answer(new QueryFailedError('SELECT 1 FROM users WHERE id = $1', ['secret-looking-input'], driverError));

    expect(logged).toHaveLength(1);
    expect(JSON.parse(logged[0].written)).toMatchObject({ sqlState: '22P02' });
    expect(logged[0].written).not.toContain('secret-looking-input');
  });
});
