import { BODY_LIMIT, INVALID_UTF8_BODY, MAX_JSON_DEPTH, OVERSIZED_BODY, parseJsonBody, PROTOTYPE_KEY_BODY, TOO_DEEP_BODY, UNPARSEABLE_BODY } from './json-body';

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

describe('parseJsonBody', () => {
  it('parses JSON; a blank body is no body', () => {
    expect(parseJsonBody(Buffer.from('{"login":"anna","n":[1,{"a":null}]}'))).toEqual({ login: 'anna', n: [1, { a: null }] });
    expect(parseJsonBody(Buffer.from('  \n'))).toBeUndefined();
  });

  it(`accepts ${MAX_JSON_DEPTH} levels of nesting and refuses ${MAX_JSON_DEPTH + 1}, before parsing`, () => {
    expect(parseJsonBody(Buffer.from(nested(MAX_JSON_DEPTH)))).toBeInstanceOf(Array);
    expect(parseJsonBody(Buffer.from(nested(MAX_JSON_DEPTH + 1)))).toBe(TOO_DEEP_BODY);
    expect(parseJsonBody(Buffer.from('{"a":'.repeat(5000) + '1' + '}'.repeat(5000)))).toBe(TOO_DEEP_BODY);
    // Not well-formed either, but deep: refused for its depth without building anything.
    expect(parseJsonBody(Buffer.from('['.repeat(30_000)))).toBe(TOO_DEEP_BODY);
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    const body = JSON.stringify({ text: '[[[[{{{{'.repeat(20) + '\\"[[[' });
    expect(parseJsonBody(Buffer.from(body))).toEqual(JSON.parse(body));
  });

  it('refuses invalid UTF-8 instead of replacing it with U+FFFD', () => {
    expect(parseJsonBody(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]))).toBe(INVALID_UTF8_BODY);
    expect(parseJsonBody(Buffer.from('{"a":"\xc3\x28"}', 'latin1'))).toBe(INVALID_UTF8_BODY);
    expect(parseJsonBody(Buffer.from('{"a":"Жёлудь ✓ 😀"}'))).toEqual({ a: 'Жёлудь ✓ 😀' });
  });

  it('marks malformed, prototype-poisoning and oversized bodies', () => {
    expect(parseJsonBody(Buffer.from('{bad'))).toBe(UNPARSEABLE_BODY);
    expect(parseJsonBody(Buffer.from('{"__proto__":{"x":1}}'))).toBe(PROTOTYPE_KEY_BODY);
    expect(parseJsonBody(Buffer.from('{"a":[{"constructor":{"prototype":{}}}]}'))).toBe(PROTOTYPE_KEY_BODY);
    expect(parseJsonBody(Buffer.from('{"constructor":"x","proto":1}'))).toEqual({ constructor: 'x', proto: 1 });
    expect(parseJsonBody(Buffer.alloc(BODY_LIMIT + 1, 0x20))).toBe(OVERSIZED_BODY);
  });
});
