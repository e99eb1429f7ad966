import { OpenApiContract, OpenApiDocument } from './contract';

const error = { $ref: '#/components/schemas/Error' };
const json = (schema: object) => ({ content: { 'application/json': { schema } } });

const document = {
  paths: {
    '/users/{id}': {
      get: {
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
        responses: {
          200: json({ $ref: '#/components/schemas/User' }),
          400: json(error),
          429: { ...json(error), headers: { 'Retry-After': { required: true, schema: { type: 'integer' } } } },
        },
      },
      delete: { responses: { 204: { description: 'Deleted.' }, 400: json(error) } },
    },
    '/users/me': { get: { responses: { 200: json({ type: 'string', enum: ['me'] }), 400: json(error) } } },
    '/count': { get: { responses: { 200: json({ type: 'integer', minimum: 0, exclusiveMinimum: true }), 400: json(error) } } },
  },
  components: {
    schemas: {
      User: {
        type: 'object',
        required: ['id', 'name'],
        properties: { id: { type: 'string', format: 'uuid' }, name: { type: 'string', nullable: true }, role: { type: 'string', enum: ['user'] } },
      },
      Error: { type: 'object', required: ['message'], properties: { message: { type: 'string' } } },
    },
  },
} as unknown as OpenApiDocument;

const contract = new OpenApiContract(document);
const ID = '0d3c8a52-5b8e-4a56-9d0e-2f5d1c7b9e41';

function answer(status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = body === undefined ? '' : JSON.stringify(body);
  return { status, text, headers: new Headers({ ...(text ? { 'content-type': 'application/json; charset=utf-8' } : {}), ...headers }) };
}

const check = (method: string, path: string, response: ReturnType<typeof answer>) => contract.check({ method, path }, response);

describe('the OpenAPI contract of an answer', () => {
  it('passes a documented status, media type and body ($ref resolved, nullable, query and trailing slash ignored)', () => {
    expect(check('GET', `/users/${ID}`, answer(200, { id: ID, name: 'Anna', role: 'user' }))).toBeUndefined();
    expect(check('GET', `/users/${ID}/?x=1`, answer(200, { id: ID, name: null }))).toBeUndefined();
    expect(check('DELETE', `/users/${ID}`, answer(204, undefined))).toBeUndefined();
  });

  it('fails an undocumented status, with one line naming method, template and status', () => {
    expect(check('GET', `/users/${ID}`, answer(404, { message: 'no' }))).toBe('GET /users/{id} → 404: status not documented (documented: 200, 400, 429)');
  });

  it('fails a body of the wrong shape: a missing or mistyped field, a value outside its enum or format, an undocumented field', () => {
    expect(check('GET', `/users/${ID}`, answer(200, { id: ID }))).toMatch(/^GET \/users\/\{id\} → 200: body must have required property 'name'/);
    expect(check('GET', `/users/${ID}`, answer(200, { id: ID, name: 42 }))).toMatch(/body\/name must be string/);
    expect(check('GET', `/users/${ID}`, answer(200, { id: ID, name: 'a', role: 'admin' }))).toMatch(/body\/role must be equal to one of the allowed values/);
    expect(check('GET', `/users/${ID}`, answer(200, { id: 'nope', name: 'a' }))).toMatch(/body\/id must match format "uuid"/);
    expect(check('GET', `/users/${ID}`, answer(200, { id: ID, name: 'a', secret: 'x' }))).toMatch(/must NOT have additional properties "secret"/);
    expect(check('GET', `/users/${ID}`, answer(400, { error: 'x' }))).toMatch(/→ 400: body must have required property 'message'/);
  });

  it('fails an undocumented media type, a body where none is documented, and a body that is not JSON', () => {
    const html = { status: 200, text: '<p>hi</p>', headers: new Headers({ 'content-type': 'text/html' }) };
    expect(check('GET', `/users/${ID}`, html)).toMatch(/media type "text\/html" not documented \(documented: application\/json\)/);
    expect(check('DELETE', `/users/${ID}`, answer(204, { done: true }))).toMatch(/the document says no body, the answer has one/);
    const broken = { status: 200, text: '{"id":', headers: new Headers({ 'content-type': 'application/json' }) };
    expect(check('GET', `/users/${ID}`, broken)).toMatch(/the body is not JSON/);
  });

  it('fails a documented required header that is missing', () => {
    expect(check('GET', `/users/${ID}`, answer(429, { message: 'slow down' }))).toBe(
      'GET /users/{id} → 429: header Retry-After is documented as required but missing',
    );
    expect(check('GET', `/users/${ID}`, answer(429, { message: 'slow down' }, { 'retry-after': '3' }))).toBeUndefined();
  });

  it('prefers a static path to a template, and reads OpenAPI 3.0 exclusiveMinimum', () => {
    expect(check('GET', '/users/me', answer(200, 'me'))).toBeUndefined();
    expect(check('GET', '/count', answer(200, 1))).toBeUndefined();
    expect(check('GET', '/count', answer(200, 0))).toMatch(/must be > 0/);
  });

  it('wants a 405 with Allow for a method a documented path does not have, in the envelope of its errors', () => {
    const allowed = answer(405, { message: 'TRACE is not allowed' }, { allow: 'DELETE, GET, HEAD' });
    expect(check('TRACE', `/users/${ID}`, allowed)).toBeUndefined();
    expect(check('TRACE', `/users/${ID}`, answer(404, { message: 'no' }))).toMatch(
      /the method is not documented for this path \(DELETE, GET, HEAD\), so the answer must be 405/,
    );
    expect(check('PUT', `/users/${ID}`, answer(405, { message: 'no' }, { allow: 'GET' }))).toMatch(
      /Allow is "GET", the documented methods are DELETE, GET, HEAD/,
    );
    expect(check('POST', '/users/me', answer(405, { detail: 'no' }, { allow: 'GET, HEAD' }))).toMatch(/body must have required property 'message'/);
  });

  it('names the opt-out when no documented path matches', () => {
    expect(check('GET', '/nowhere/at/all', answer(404, { message: 'no' }))).toMatch(/no documented path matches .*notAnOperation/);
    expect(contract.isOperation('GET', `/users/${ID}`)).toBe(true);
    expect(contract.isOperation('GET', '/nowhere')).toBe(false);
    expect(contract.isOperation('GET', '/users/not-a-uuid')).toBe(false);
  });
});
