import { ExecutionContext } from '@nestjs/common';
import { DomainError } from './domain-error';
import { TOO_DEEP_BODY } from './json-body';
import { isCleanText, parseQueryString, RequestInputGuard, uncleanTextAt } from './request-input';

describe('isCleanText', () => {
  it.each(['\u0000', 'a\u0000b', '\u0001', '\u0008', '\u000b', '\u001b[31m', '\u001f', '\u007f', '\u0085', '\u009f', '\ud800', 'x\udc00', '\udc00\ud800'])(
    'refuses %j',
    (text) => expect(isCleanText(text)).toBe(false),
  );

  it.each(['', 'anna@example.com', 'line one\nline two\r\n\tindented', 'Жёлудь', '😀', '\u00a0non-breaking', '\u200b'])('accepts %j', (text) => {
    expect(isCleanText(text)).toBe(true);
  });
});

describe('uncleanTextAt', () => {
  it('names the first field with a bad string, nested ones by path, bad keys at their parent', () => {
    expect(uncleanTextAt({ login: 'anna', password: 'pw' }, 'body')).toBeUndefined();
    expect(uncleanTextAt({ login: 'a\u0000' }, 'body')).toBe('login');
    expect(uncleanTextAt({ a: { b: ['ok', 'n\u0007'] } }, 'body')).toBe('a.b.1');
    expect(uncleanTextAt({ 'bad\u0000key': 1 }, 'body')).toBe('body');
    expect(uncleanTextAt({ a: { 'k\u0000': 1 } }, 'body')).toBe('a');
    expect(uncleanTextAt(['x', 'y\u0000'], 'ids')).toBe('ids.1');
  });
});

describe('parseQueryString', () => {
  it('decodes like the default parser: + is a space, repeated names are arrays', () => {
    expect({ ...parseQueryString('page=2&search=anna+p%C3%A9trova&role=user&role=executor&flag') }).toEqual({
      page: '2',
      search: 'anna pétrova',
      role: ['user', 'executor'],
      flag: '',
    });
  });

  it('marks a malformed escape or invalid UTF-8 (the default parser would keep "%FF" as text)', () => {
    const guard = new RequestInputGuard();
    for (const text of ['token=%FF', 'token=%C3%28', 'a=%', 'x%FF=1']) {
      expect(() => guard.canActivate(context({ query: parseQueryString(text) }))).toThrow('the query string is not valid');
    }
    expect(guard.canActivate(context({ query: parseQueryString('token=%25FF') }))).toBe(true);
  });
});

function context(request: object): ExecutionContext {
  return { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
}

describe('RequestInputGuard', () => {
  const guard = new RequestInputGuard();
  const refusal = (request: object) => {
    try {
      guard.canActivate(context(request));
    } catch (error) {
      return error instanceof DomainError ? { kind: error.kind, fields: error.details.fields, message: error.message } : error;
    }
    return undefined;
  };

  it('lets clean input through, with or without a body', () => {
    expect(refusal({ body: { login: 'anna', address: 'Main St 1\nFlat 2' }, query: { page: '1' }, params: { id: 'abc' } })).toBeUndefined();
    expect(refusal({ body: undefined, query: {}, params: {} })).toBeUndefined();
  });

  it('refuses a control character in a body string, a path parameter or a query value, naming the field', () => {
    expect(refusal({ body: { login: 'a\u0000b' } })).toMatchObject({
      kind: 'ValidationFailed',
      fields: [{ field: 'login', message: 'login must not contain control characters' }],
    });
    expect(refusal({ params: { token: 'a\u0000b' } })).toMatchObject({ fields: [{ field: 'token' }] });
    expect(refusal({ query: { search: ['ok', '\u001b'] } })).toMatchObject({ fields: [{ field: 'search' }] });
  });

  it.each([null, [], [{}], 'text', 12, true])('refuses a %j body: a JSON object is expected', (body) => {
    expect(refusal({ body })).toMatchObject({
      kind: 'ValidationFailed',
      fields: [{ field: 'body', message: expect.stringMatching(/^the request body must be a JSON object, not /) }],
    });
  });

  it('throws the error of a body the parser refused', () => {
    expect(refusal({ body: TOO_DEEP_BODY })).toMatchObject({ kind: 'MalformedBody', message: 'the request body is nested deeper than 32 levels' });
  });
});
