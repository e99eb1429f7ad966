import { request as httpRequest } from 'node:http';
import { randomUUID } from 'node:crypto';
import { startApp, TestApp } from './support/app';
import { contractOf, OpenApiContract } from './support/contract';

/**
 * The document itself (the answers are checked in every e2e test, see support/http.ts): the errors
 * every operation can answer are documented, the constraints the server enforces are stated, the
 * security says which tokens are optional, its examples are valid, and a method a path does not
 * have is a 405 with Allow.
 */

type Json = any;
interface Operation {
  method: string;
  path: string;
  op: Json;
}

const BODY_METHODS = new Set(['post', 'put', 'patch', 'delete']);
/** Routes that never read the database (`@WithoutDatabase`): the service info and the public keys, served from memory. */
const WITHOUT_DATABASE = ['GET /', 'GET /.well-known/jwks.json', 'GET /api'];

describe('the OpenAPI document tells the truth', () => {
  let t: TestApp;
  let doc: Json;
  let contract: OpenApiContract;
  let operations: Operation[];

  beforeAll(async () => {
    // A non-default minimum: the document must state the running policy, not a constant.
    t = await startApp({ PASSWORD_MIN_LENGTH: '12' });
    doc = (await t.http.get('/docs-json', { notAnOperation: true })).body;
    contract = await contractOf(t.http.baseUrl);
    operations = Object.entries(doc.paths as Record<string, Record<string, Json>>).flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]) => ({ method, path, op })),
    );
  });
  afterAll(() => t.close());

  const name = ({ method, path }: Operation) => `${method.toUpperCase()} ${path}`;
  const schemaOf = (reference: Json) => (reference?.$ref ? doc.components.schemas[reference.$ref.split('/').pop()] : reference);

  it('documents 413 on every operation with a body, 401 on every one that takes a token, 414 where the path has a parameter, 400 and 500 on all', () => {
    const missing: string[] = [];
    for (const operation of operations) {
      const expected = [400, 500];
      if (BODY_METHODS.has(operation.method)) expected.push(413);
      if ((operation.op.security ?? []).some((requirement: object) => 'bearer' in requirement)) expected.push(401);
      if (operation.path.includes('{')) expected.push(414);
      for (const status of expected) {
        const response = operation.op.responses[status];
        if (!response?.content) missing.push(`${name(operation)}: ${status}`);
      }
    }
    expect(missing).toEqual([]);
    expect(operations.filter((operation) => BODY_METHODS.has(operation.method)).length).toBeGreaterThan(30);
  });

  it('documents 503 with Retry-After on every operation that reads the database, and 429 with Retry-After wherever it is documented', () => {
    expect(
      operations
        .filter((operation) => !operation.op.responses[503])
        .map(name)
        .sort(),
    ).toEqual(WITHOUT_DATABASE);
    const withoutRetryAfter = operations.flatMap((operation) =>
      [429, 503]
        .filter(
          (status) =>
            operation.op.responses[status] && !operation.path.startsWith('/health/') && !operation.op.responses[status].headers?.['Retry-After']?.required,
        )
        .map((status) => `${name(operation)}: ${status}`),
    );
    expect(withoutRetryAfter).toEqual([]);
  });

  it('says which operations take a token optionally: security [{bearer}, {}]; public ones need none', () => {
    const optional = operations.filter((operation) => operation.op.security.some((requirement: object) => Object.keys(requirement).length === 0));
    expect(optional.map(name).sort()).toEqual(['PATCH /me/password', 'POST /api/users/resetPassword']);
    for (const operation of optional) expect(operation.op.security).toEqual([{ bearer: [] }, {}]);
    expect(doc.paths['/v1/auth/login'].post.security).toEqual([]);
    expect(doc.paths['/v1/me'].get.security).toEqual([{ bearer: [] }]);
  });

  it('documents path ids as UUIDs and paging parameters as integers with their ranges', () => {
    const pathParameter = (path: string, method: string) => doc.paths[path][method].parameters.find((parameter: Json) => parameter.in === 'path').schema;
    for (const [path, method] of [
      ['/v1/admin/users/{id}', 'get'],
      ['/v1/admin/users/{id}', 'patch'],
      ['/v1/me/sessions/{id}', 'delete'],
      ['/{userId}', 'get'],
      ['/{userId}', 'put'],
    ]) {
      expect(pathParameter(path, method)).toMatchObject({ type: 'string', format: 'uuid' });
    }
    expect(pathParameter('/api/confirm_email/{token}', 'get')).toMatchObject({ type: 'string', maxLength: 100 });
    const query = (path: string) =>
      Object.fromEntries(
        doc.paths[path].get.parameters.filter((parameter: Json) => parameter.in === 'query').map((parameter: Json) => [parameter.name, parameter.schema]),
      );
    expect(query('/v1/admin/users')).toMatchObject({
      page: { type: 'integer', minimum: 1, maximum: 10_000 },
      limit: { type: 'integer', minimum: 1, maximum: 100 },
    });
    expect(query('/users/user/executor')).toMatchObject({
      limit: { type: 'integer', minimum: 1 },
      offset: { type: 'integer', minimum: 0, maximum: 1_000_000 },
    });
  });

  it('states the constraints the server enforces, from the validators and the services that enforce them', () => {
    const schemas = doc.components.schemas;
    expect(schemas.RegisterDto.properties).toMatchObject({
      email: { type: 'string', format: 'email', maxLength: 254 },
      username: { type: 'string', maxLength: 64, pattern: expect.stringContaining('\\p{L}') },
      phone: { type: 'string', maxLength: 32, pattern: expect.any(String) },
      password: { type: 'string', minLength: 12, maxLength: 128 },
      locale: { enum: ['en', 'ru', null] },
    });
    expect(schemas.RegisterDto.required).toEqual(['password']);
    expect(schemas.RegisterDto.anyOf).toEqual([{ required: ['email'] }, { required: ['username'] }, { required: ['phone'] }]);
    expect(schemas.LoginDto).toMatchObject({
      required: ['login', 'password'],
      properties: { login: { minLength: 1, maxLength: 254 }, rememberMe: { type: 'boolean' } },
    });
    expect(schemas.ConfirmCodeDto.properties.code).toMatchObject({ type: 'string', pattern: '^\\d{6}$' });
    expect(schemas.ForgotPasswordDto.anyOf).toEqual([{ required: ['email'] }, { required: ['phone'] }]);
    expect(schemas.ResetPasswordDto.anyOf).toEqual([{ required: ['token'] }, { required: ['email', 'code'] }, { required: ['phone', 'code'] }]);
    expect(schemas.UsersApiTokenRequestDto.anyOf).toEqual([{ required: ['email'] }, { required: ['number'] }]);
    // A phone sent as a JSON number (numberToText) and 002's numeric code are documented as such.
    expect(schemas.UserServiceRegisterDto.properties.contact_number.anyOf).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'string' }), expect.objectContaining({ type: 'integer', minimum: 0 })]),
    );
    expect(schemas.UsersApiAcceptEmailDto.properties.code.anyOf).toEqual([
      expect.objectContaining({ type: 'string', minLength: 1, maxLength: 16 }),
      { type: 'integer', minimum: 0, maximum: 999_999 },
    ]);
    // A request body without required fields may be left out (the server reads it as `{}`).
    expect(doc.paths['/api/users/profile'].post.requestBody.required).toBe(false);
    expect(doc.paths['/v1/auth/login'].post.requestBody.required).toBe(true);
  });

  it('gives PATCH /me/password its three body shapes, each with its own required fields, and each example is exactly one of them', () => {
    const body = doc.paths['/me/password'].patch.requestBody.content['application/json'];
    const schema = schemaOf(body.schema);
    expect(schema.oneOf.map((shape: Json) => [shape.title, shape.required])).toEqual([
      ['change', ['password', 'newPassword']],
      ['sendCode', ['phone']],
      ['reset', ['phone', 'code', 'password']],
    ]);
    for (const [title, example] of Object.entries(body.examples as Record<string, { value: unknown }>)) {
      expect([title, contract.mismatch(body.schema, example.value)]).toEqual([title, undefined]);
      const matching = schema.oneOf.filter((shape: Json) => contract.mismatch(shape, example.value) === undefined);
      expect([title, matching.length]).toEqual([title, 1]);
    }
    expect(contract.mismatch(body.schema, { phone: '+79991234567', password: 'x' })).toBeDefined();
  });

  it('has only examples that match their own schemas', () => {
    const wrong: string[] = [];
    const checkExample = (where: string, schema: Json, value: unknown) => {
      const problem = schema && contract.mismatch(schema, value);
      if (problem) wrong.push(`${where}: ${problem} (${JSON.stringify(value)})`);
    };
    const checkContent = (where: string, content: Json) => {
      for (const [mediaType, media] of Object.entries(content ?? {}) as [string, Json][]) {
        if (media.example !== undefined) checkExample(`${where} ${mediaType}`, media.schema, media.example);
        for (const [key, example] of Object.entries(media.examples ?? {}) as [string, Json][])
          checkExample(`${where} ${mediaType} ${key}`, media.schema, example.value);
      }
    };
    for (const operation of operations) {
      checkContent(`${name(operation)} request`, operation.op.requestBody?.content);
      for (const [status, response] of Object.entries(operation.op.responses) as [string, Json][])
        checkContent(`${name(operation)} ${status}`, response.content);
      for (const parameter of operation.op.parameters ?? []) {
        if (parameter.schema?.example !== undefined)
          checkExample(`${name(operation)} ${parameter.in} ${parameter.name}`, parameter.schema, parameter.schema.example);
      }
    }
    for (const [component, schema] of Object.entries(doc.components.schemas) as [string, Json][]) {
      for (const [property, propertySchema] of Object.entries(schema.properties ?? {}) as [string, Json][]) {
        if (propertySchema.example !== undefined) checkExample(`${component}.${property}`, propertySchema, propertySchema.example);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('titles /v1\'s 413 "Payload too large"', async () => {
    const res = await t.http.post('/v1/auth/login', undefined, { raw: JSON.stringify({ login: 'x'.repeat(100_000), password: 'y' }) });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ status: 413, title: 'Payload too large' });
  });
});

/** Any method, TRACE included (fetch refuses to send it), over real HTTP. */
function send(baseUrl: string, method: string, path: string): Promise<{ status: number; headers: Headers; text: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${baseUrl}${path}`, { method }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        const headers = new Headers();
        for (const [key, value] of Object.entries(response.headers)) if (typeof value === 'string') headers.set(key, value);
        resolve({ status: response.statusCode!, headers, text });
      });
    });
    request.on('error', reject);
    request.end();
  });
}

describe('a method a path does not have', () => {
  let t: TestApp;
  beforeAll(async () => (t = await startApp()));
  afterAll(() => t.close());

  const user = randomUUID();
  it.each([
    ['TRACE', '/v1/me', 'DELETE, GET, HEAD, PATCH', 'v1'],
    ['PROPFIND', '/v1/auth/login', 'POST', 'v1'],
    ['GET', '/api/users/profile', 'POST', '000'],
    ['TRACE', `/${user}`, 'GET, HEAD, PUT', '001'],
    ['DELETE', '/auth/login/', 'POST', '001'],
    ['PUT', '/users/user', 'DELETE, GET, HEAD, PATCH', '002'],
    ['POST', '/api/profile_settings', 'GET, HEAD', '003'],
    ['TRACE', '/me/password', 'PATCH', '004'],
  ])("%s %s → 405, Allow: %s, in %s's envelope (checked against the document)", async (method, path, allow) => {
    const res = await send(t.http.baseUrl, method, path);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe(allow);
    expect((await contractOf(t.http.baseUrl)).check({ method, path }, res)).toBeUndefined();
  });

  it('keeps 404 for a path no route has', async () => {
    expect((await t.http.request('PROPFIND', '/v1/no/such/thing', undefined, { notAnOperation: true })).status).toBe(404);
  });
});
