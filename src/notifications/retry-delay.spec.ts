import { retryDelayMs } from './outbox-dispatcher.service';

describe('retryDelayMs', () => {
  it('starts at the base and doubles per attempt', () => {
    expect([1, 2, 3, 4].map((attempt) => retryDelayMs(attempt, 2000))).toEqual([2000, 4000, 8000, 16000]);
  });

  it('is capped at one hour, also for absurd attempt counts', () => {
    expect(retryDelayMs(20, 2000)).toBe(3_600_000);
    expect(retryDelayMs(10_000, 2000)).toBe(3_600_000);
    expect(retryDelayMs(0, 2000)).toBe(2000);
  });
});
