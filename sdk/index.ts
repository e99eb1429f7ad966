/**
 * The TypeScript SDK of the identity service: typed paths generated from `openapi/openapi.json`
 * (`npm run sdk` writes `schema.d.ts`; a test fails when it is stale) over `openapi-fetch`.
 *
 *   const api = createIdentityClient({ baseUrl: 'https://id.example.com' });
 *   const { data } = await api.POST('/v1/auth/login', { body: { login: 'anna@example.com', password: '…' } });
 *   api.useToken(data!.accessToken);
 *   const me = await api.GET('/v1/me');
 */
import createClient, { type Client, type ClientOptions, type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';

export type { components, paths };
/** A schema of the document by name, e.g. `Schema<'UserDto'>`. */
export type Schema<Name extends keyof components['schemas']> = components['schemas'][Name];

export interface IdentityClient extends Client<paths> {
  /** Sends `Authorization: Bearer <token>` from now on (`null`: no more). */
  useToken(token: string | null): void;
}

export function createIdentityClient(options: ClientOptions & { baseUrl: string }): IdentityClient {
  const client = createClient<paths>(options);
  let token: string | null = null;
  const bearer: Middleware = {
    onRequest({ request }) {
      if (token && !request.headers.has('authorization')) request.headers.set('authorization', `Bearer ${token}`);
      return request;
    },
  };
  client.use(bearer);
  return Object.assign(client, {
    useToken(next: string | null) {
      token = next;
    },
  });
}
