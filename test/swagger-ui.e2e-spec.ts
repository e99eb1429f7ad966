import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import { GOOD_PASSWORD, startApp, TestApp, unique } from './support/app';

/** Debian's Chromium (`.ci/run` installs it); playwright-core never downloads a browser. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, 'artifacts');
// CI installs Chromium, so there the test must run; on a developer machine without it, it says so and skips.
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) throw new Error(`Chromium not found at ${CHROMIUM}: .ci/run installs it (apt-get install chromium)`);
const describeWithChromium = haveChromium ? describe : describe.skip;
if (!haveChromium) console.warn(`Swagger UI test skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);

/**
 * Swagger UI used as a frontend developer uses it, in a real browser: sign in with "Try it out",
 * authorize with the token, call GET /v1/me from the page and see 200.
 */
describeWithChromium('Swagger UI at /docs in Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    t = await startApp();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  /** Expands an operation, presses "Try it out", optionally writes its JSON body, and executes it. */
  async function tryItOut(operation: string, body?: unknown): Promise<{ status: number; text: string }> {
    const block = page.locator(`[id="operations-${operation}"]`);
    await block.locator('.opblock-summary').first().click();
    await block.getByRole('button', { name: 'Try it out' }).click();
    if (body !== undefined) await block.locator('textarea.body-param__text').fill(JSON.stringify(body));
    await block.getByRole('button', { name: 'Execute' }).click();
    const live = block.locator('.live-responses-table .response').first();
    await live.waitFor({ timeout: 15_000 });
    const status = Number((await live.locator('.response-col_status').innerText()).trim());
    const text = await live.locator('.response-col_description pre').first().innerText();
    return { status, text };
  }

  it('signs in with "Try it out", authorizes with the token and calls GET /v1/me: 200', async () => {
    const email = `${unique('swagger')}@example.com`;
    expect((await t.http.post('/v1/auth/register', { email, password: GOOD_PASSWORD })).status).toBe(201);

    await page.goto(`${t.http.baseUrl}/docs`);
    await page.locator('.swagger-ui .information-container').waitFor({ timeout: 15_000 });

    const login = await tryItOut('v1_auth-login', { login: email, password: GOOD_PASSWORD });
    expect(login.status).toBe(200);
    const { accessToken } = JSON.parse(login.text);
    expect(typeof accessToken).toBe('string');

    await page.locator('.auth-wrapper .authorize').first().click();
    const dialog = page.locator('.modal-ux');
    await dialog.locator('input[type="text"], input[type="password"]').first().fill(accessToken);
    await dialog.locator('button.modal-btn.authorize').click();
    await dialog.locator('button.btn-done').click();

    const me = await tryItOut('v1_me-getMe');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'swagger-ui-get-me.png'), fullPage: false });
    expect(me.status).toBe(200);
    expect(JSON.parse(me.text)).toMatchObject({ email });
  });
});
