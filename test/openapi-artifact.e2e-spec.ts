import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { firstDifference, OPENAPI_ARTIFACT, serializeOpenApi, sortedDeep } from '../src/api/openapi-artifact';
import { startApp, TestApp } from './support/app';

/** The committed document is the one the routes produce: frontends and the SDK build on the file. */
describe('the committed OpenAPI document', () => {
  let t: TestApp;
  beforeAll(async () => (t = await startApp()));
  afterAll(() => t.close());

  it(`${OPENAPI_ARTIFACT} matches what the server serves at /docs-json`, async () => {
    const served = (await t.http.get('/docs-json', { notAnOperation: true })).body;
    const committed = JSON.parse(readFileSync(join(__dirname, '..', OPENAPI_ARTIFACT), 'utf8'));
    const difference = firstDifference(sortedDeep(served), committed);
    if (difference) throw new Error(`${OPENAPI_ARTIFACT} is stale (first difference at ${difference}): run \`npm run openapi\` and commit it`);
    expect(serializeOpenApi(served)).toBe(readFileSync(join(__dirname, '..', OPENAPI_ARTIFACT), 'utf8'));
  });
});
