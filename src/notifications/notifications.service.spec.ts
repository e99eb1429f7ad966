import { Logger } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { DomainError } from '../common/domain-error';
import { LimitsService } from '../limits/limits.service';
import { NotificationsService, OutgoingMessage } from './notifications.service';
import { OutboxDispatcher } from './outbox-dispatcher.service';

describe('NotificationsService: the message caps (SPEC §9 rule 5)', () => {
  const notice: OutgoingMessage = { userId: 'user-1', channel: 'email', to: 'anna@example.com', template: 'password-changed', locale: 'en' };
  const code: OutgoingMessage = { ...notice, template: 'password-change', params: { code: '123456' }, whenCapped: 'refuse' };
  let manager: { insert: jest.Mock };
  let limits: { consumeMessage: jest.Mock; refusal: jest.Mock };
  let dispatcher: { wake: jest.Mock };
  let service: NotificationsService;
  let warned: Array<[unknown, unknown]>;

  beforeEach(() => {
    // A dropped notice is logged: stubbed, so the run stays quiet, and asserted where it matters.
    warned = [];
    jest.spyOn(Logger.prototype, 'warn').mockImplementation((entry: unknown, message?: unknown) => void warned.push([entry, message]));
    manager = { insert: jest.fn().mockResolvedValue(undefined) };
    limits = {
      consumeMessage: jest.fn().mockResolvedValue({ budget: 'emails', allowed: true, retryAfterSeconds: 0 }),
      refusal: jest.fn((_budget: string, decision: { retryAfterSeconds: number }) => new DomainError('RateLimited', 'capped', decision)),
    };
    dispatcher = { wake: jest.fn() };
    const dataSource = { transaction: (work: (m: EntityManager) => Promise<unknown>) => work(manager as unknown as EntityManager) };
    service = new NotificationsService(dataSource as unknown as DataSource, dispatcher as unknown as OutboxDispatcher, limits as unknown as LimitsService);
  });

  afterEach(() => jest.restoreAllMocks());

  const capped = () => limits.consumeMessage.mockResolvedValue({ budget: 'emails', allowed: false, retryAfterSeconds: 4000 });

  it("counts the message in the caller's transaction and writes it", async () => {
    expect(await service.enqueue(manager as unknown as EntityManager, notice)).toBe(true);
    expect(limits.consumeMessage).toHaveBeenCalledWith(manager, 'user-1', 'email');
    expect(manager.insert).toHaveBeenCalledTimes(1);
  });

  it('at the cap, a notice is dropped (not written, no error)', async () => {
    capped();
    expect(await service.enqueue(manager as unknown as EntityManager, notice)).toBe(false);
    expect(manager.insert).not.toHaveBeenCalled();
    expect(warned).toEqual([[{ userId: 'user-1', channel: 'email', template: 'password-changed', budget: 'emails' }, 'message cap reached: message dropped']]);
  });

  it('at the cap, a requested code is refused with RateLimited and its Retry-After', async () => {
    capped();
    await expect(service.enqueue(manager as unknown as EntityManager, code)).rejects.toMatchObject({
      kind: 'RateLimited',
      details: { retryAfterSeconds: 4000 },
    });
    expect(manager.insert).not.toHaveBeenCalled();
  });

  it('send() outside a transaction wakes the dispatcher only when something was written', async () => {
    expect(await service.send(notice)).toBe(true);
    expect(dispatcher.wake).toHaveBeenCalledTimes(1);
    capped();
    expect(await service.send(notice)).toBe(false);
    expect(dispatcher.wake).toHaveBeenCalledTimes(1);
  });
});
