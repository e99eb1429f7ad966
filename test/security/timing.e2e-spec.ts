import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GOOD_PASSWORD, unique } from '../support/app';
import { DeliveryTestApp, startAppWithDelivery } from '../support/delivery';
import { setLock } from '../support/lockout';
import { codeIn } from '../support/mail';
import { registerAndLogin, SignedInUser } from '../support/users';

/**
 * SPEC §9 rule 8: answers for unknown accounts match known ones in time, not only in status and
 * body. Known and unknown requests are interleaved (so machine noise hits both alike) and their
 * medians compared. The bound is generous on purpose — a missing argon2 verify or a skipped
 * transaction shows as a gap of many times that; the README records the measured figures.
 */
const PAIRS = 60;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function timed(action: () => Promise<{ status: number }>): Promise<{ ms: number; status: number }> {
  const start = process.hrtime.bigint();
  const { status } = await action();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, status };
}

/** Runs `known` and `unknown` alternately (order flipped every pair) and returns both medians. */
async function interleaved(known: () => Promise<{ status: number }>, unknown: () => Promise<{ status: number }>, between: () => Promise<void>) {
  const k: number[] = [];
  const u: number[] = [];
  for (let i = 0; i < PAIRS; i++) {
    const order = i % 2 === 0 ? [known, unknown] : [unknown, known];
    for (const action of order) {
      const { ms, status } = await timed(action);
      expect(status).toBeGreaterThanOrEqual(400); // every attempt is a refusal
      (action === known ? k : u).push(ms);
      await between();
    }
  }
  return { known: median(k), unknown: median(u) };
}

describe('no timing oracle (SPEC §9 rule 8)', () => {
  let t: DeliveryTestApp;
  let anna: SignedInUser;
  const figures: Record<string, { known: number; unknown: number }> = {};

  beforeAll(async () => {
    t = await startAppWithDelivery({ EMAIL_RESEND_COOLDOWN: '0' });
    anna = await registerAndLogin(t.http);
  });
  afterAll(async () => {
    // The measured medians, for the README's record (test/artifacts/ is not committed).
    mkdirSync(join(__dirname, '..', 'artifacts'), { recursive: true });
    writeFileSync(join(__dirname, '..', 'artifacts', 'timing-medians.json'), `${JSON.stringify(figures, null, 2)}\n`);
    await t.close();
  });

  /**
   * The gap between medians stays within 20 % of the slower one, and within 1 ms on fast routes: a
   * skipped argon2 verify (~25 ms here) or a skipped transaction (~2 ms) is far outside it.
   */
  function expectSameTime(name: string, medians: { known: number; unknown: number }): void {
    figures[name] = { known: Number(medians.known.toFixed(2)), unknown: Number(medians.unknown.toFixed(2)) };
    const bound = Math.max(1, 0.2 * Math.max(medians.known, medians.unknown));
    expect(Math.abs(medians.known - medians.unknown)).toBeLessThanOrEqual(bound);
  }

  it('a wrong password takes as long for a known account as for an unknown one', async () => {
    const medians = await interleaved(
      () => t.http.post('/v1/auth/login', { login: anna.email, password: 'not the password at all' }),
      () => t.http.post('/v1/auth/login', { login: `${unique('nobody')}@example.com`, password: 'not the password at all' }),
      () => setLock(t.db, anna.id, 0, null), // keep the known account out of its lockout
    );
    expectSameTime('sign-in with a wrong password', medians);
  });

  it('a wrong reset code takes as long for a known account (with a live code) as for an unknown one', async () => {
    await t.http.post('/v1/auth/password/forgot', { email: anna.email });
    const code = codeIn((await t.mail.waitFor((m) => m.to === anna.email && m.subject === 'Reset your password')).text);
    const wrong = code === '000000' ? '111111' : '000000';
    const medians = await interleaved(
      () => t.http.post('/v1/auth/password/reset', { email: anna.email, code: wrong, password: GOOD_PASSWORD }),
      () => t.http.post('/v1/auth/password/reset', { email: `${unique('nobody')}@example.com`, code: wrong, password: GOOD_PASSWORD }),
      // The live code keeps its tries, so every known attempt takes the full path (lock, compare, count).
      () =>
        t.db.query(`UPDATE verification_secrets SET attempts = 0, consumed_at = NULL WHERE user_id = $1 AND kind = 'code'`, [anna.id]).then(() => undefined),
    );
    expectSameTime('reset with a wrong code', medians);
  });
});
