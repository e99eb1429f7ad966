import { QueryFailedError } from 'typeorm';
import { redactUrl, serializeError } from './logging';

describe('redactUrl', () => {
  it.each([
    ['/api/reset_password/q3Jx0mV1c2VkLXRva2Vu', '/api/reset_password/[redacted]'],
    ['/api/confirm_email/q3Jx0mV1c2VkLXRva2Vu/', '/api/confirm_email/[redacted]/'],
    ['/api/reset%5Fpassword/q3Jx0mV1c2VkLXRva2Vu', '/api/reset_password/[redacted]'],
    ['/v1/auth/email/confirm?token=q3Jx0mV1c2VkLXRva2Vu', '/v1/auth/email/confirm?token=[redacted]'],
    [
      '/v1/auth/password/reset?x=1&token=abc&Token=def&access_token=ghi&code=123456',
      '/v1/auth/password/reset?x=1&token=[redacted]&Token=[redacted]&access_token=[redacted]&code=[redacted]',
    ],
    ['/v1/admin/users?page=2&search=anna', '/v1/admin/users?page=2&search=anna'],
    ['/v1/me', '/v1/me'],
  ])('%s → %s', (url, logged) => expect(redactUrl(url)).toBe(logged));
});

describe('serializeError', () => {
  const hash = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo';

  it('drops the SQL, its parameters, the driver error and the values PostgreSQL quotes', () => {
    const driverError = Object.assign(new Error('invalid input syntax for type uuid: "secret-value"'), {
      code: '22P02',
      severity: 'ERROR',
      routine: 'string_to_uuid',
      detail: `Key (password_hash)=(${hash}) is bad`,
      where: `unnamed portal parameter $2 = '${hash}'`,
    });
    const error = new QueryFailedError(`UPDATE users SET password_hash = '${hash}' WHERE id = $1`, ['secret-value', hash], driverError);
    const logged = JSON.stringify(serializeError(error));
    expect(logged).not.toMatch(/argon2|secret-value|UPDATE users|password_hash/);
    expect(serializeError(error)).toMatchObject({
      type: 'QueryFailedError',
      code: '22P02',
      severity: 'ERROR',
      routine: 'string_to_uuid',
      message: 'invalid input syntax for type uuid: "…"',
    });
  });

  it("accepts pino's serialized form (whose raw is the error) and keeps ordinary errors readable", () => {
    const error = new TypeError('Cannot read properties of undefined (reading "x")');
    const serialized = Object.defineProperty({ type: 'TypeError', message: error.message, extra: hash }, 'raw', { value: error, enumerable: false });
    expect(serializeError(serialized)).toMatchObject({ type: 'TypeError', message: error.message, stack: expect.stringContaining('TypeError') });
    expect(JSON.stringify(serializeError(serialized))).not.toContain('argon2');
  });

  it('serializes causes the same way, and leaves non-errors alone', () => {
    const cause = new QueryFailedError('SELECT 1', [hash], new Error('boom'));
    expect(JSON.stringify(serializeError(new Error('wrapped', { cause })))).not.toContain('argon2');
    expect(serializeError('text')).toBe('text');
  });
});
