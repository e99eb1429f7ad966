import { DataSource } from 'typeorm';
import { DomainError } from '../common/domain-error';
import { loadConfig } from '../config/app-config';
import { LimitsService } from './limits.service';

/** A stand-in database: answers each counter statement with the next `hits` and records what ran. */
function fakeDb(hitsByBudget: Record<string, number> = {}) {
  const statements: { sql: string; params: unknown[] }[] = [];
  return {
    statements,
    ran: (pattern: RegExp) => statements.filter((s) => pattern.test(s.sql)).map((s) => s.params.slice(0, 2)),
    async query(sql: string, params: unknown[] = []) {
      statements.push({ sql, params });
      if (/^\s*INSERT INTO rate_limits/.test(sql)) return [{ hits: hitsByBudget[params[0] as string] ?? 1, retry_after: 0 }];
      return [];
    },
  };
}

describe('LimitsService', () => {
  const config = loadConfig({
    AUTH_RATE_LIMIT_PER_MINUTE: '5',
    PROFILE_CHANGES_PER_HOUR: '3',
    MAX_EMAILS_PER_DAY: '20',
    MAX_SMS_PER_DAY: '10',
    SMS_GLOBAL_PER_HOUR: '500',
  });
  const service = (db = fakeDb()) => new LimitsService(db as unknown as DataSource, config);

  it('names its budgets from the configuration', () => {
    expect(service().budgets).toEqual({
      'sign-in': { limit: 5, windowSeconds: 60 },
      route: { limit: 5, windowSeconds: 60 },
      'profile-changes': { limit: 3, windowSeconds: 3600 },
      emails: { limit: 20, windowSeconds: 86400 },
      sms: { limit: 10, windowSeconds: 86400 },
      'sms-global': { limit: 500, windowSeconds: 3600 },
    });
  });

  it('allows up to the limit and refuses beyond it, with at least one second to wait', async () => {
    expect(await service(fakeDb({ 'sign-in': 5 })).consume('sign-in', '203.0.113.1')).toEqual({ allowed: true, retryAfterSeconds: 1 });
    expect(await service(fakeDb({ 'sign-in': 6 })).consume('sign-in', '203.0.113.1')).toEqual({ allowed: false, retryAfterSeconds: 1 });
  });

  it('counts in one statement, with the window and the limit of the budget', async () => {
    const db = fakeDb();
    await service(db).consume('profile-changes', 'user-1');
    expect(db.statements).toHaveLength(1);
    expect(db.statements[0].sql).toMatch(/INSERT INTO rate_limits[\s\S]*ON CONFLICT \(budget, key\) DO UPDATE[\s\S]*RETURNING/);
    expect(db.statements[0].params).toEqual(['profile-changes', 'user-1', 3600, 3]);
  });

  it('take throws RateLimited with the seconds to wait', async () => {
    const error = await service(fakeDb({ 'profile-changes': 4 }))
      .take('profile-changes', 'user-1')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ kind: 'RateLimited', details: { retryAfterSeconds: 1 } });
  });

  describe('consumeMessage', () => {
    it('an e-mail counts against the account only', async () => {
      const db = fakeDb();
      expect(await service().consumeMessage(db, 'user-1', 'email')).toMatchObject({ allowed: true });
      expect(db.ran(/INSERT/)).toEqual([['emails', 'user-1']]);
    });

    it('an SMS counts against the account, then the global budget', async () => {
      const db = fakeDb();
      expect(await service().consumeMessage(db, 'user-1', 'sms')).toMatchObject({ allowed: true });
      expect(db.ran(/INSERT/)).toEqual([
        ['sms', 'user-1'],
        ['sms-global', 'global'],
      ]);
    });

    it('an account over its cap does not touch the global budget', async () => {
      const db = fakeDb({ sms: 11 });
      expect(await service().consumeMessage(db, 'user-1', 'sms')).toMatchObject({ allowed: false, budget: 'sms' });
      expect(db.ran(/INSERT/)).toEqual([['sms', 'user-1']]);
    });

    it('a refusal by the global budget gives the account its unit back', async () => {
      const db = fakeDb({ 'sms-global': 501 });
      expect(await service().consumeMessage(db, 'user-1', 'sms')).toMatchObject({ allowed: false, budget: 'sms-global' });
      expect(db.ran(/UPDATE rate_limits SET hits = hits - 1/)).toEqual([['sms', 'user-1']]);
    });

    it('a message without an account counts against the global SMS budget only', async () => {
      const db = fakeDb();
      await service().consumeMessage(db, null, 'sms');
      await service().consumeMessage(db, null, 'email');
      expect(db.ran(/INSERT/)).toEqual([['sms-global', 'global']]);
    });
  });
});
