import { startApp, TestApp } from './support/app';
import { registerAndLogin } from './support/users';

describe('smoke', () => {
  let t: TestApp;
  beforeAll(async () => (t = await startApp()));
  afterAll(() => t.close());

  it('registers, signs in and reads /v1/me', async () => {
    const user = await registerAndLogin(t.http);
    const me = await t.http.get('/v1/me', { token: user.accessToken });
    expect(me.status).toBe(200);
    expect(me.body.email).toBe(user.email);
  });
});
