import { afterWrongTry, CHALLENGE_MAX_ATTEMPTS, CHALLENGE_TTL_SECONDS, ChallengeState, offeredMethods, refusalOf } from './challenge-state';

const NOW = new Date('2030-01-01T00:00:00.000Z');
const later = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);

function challenge(overrides: Partial<ChallengeState> = {}): ChallengeState {
  return { methods: ['totp', 'recovery'], attempts: 0, expiresAt: later(CHALLENGE_TTL_SECONDS), consumedAt: null, ...overrides };
}

describe('the second-step challenge', () => {
  it('lives 5 minutes and allows 5 tries (issue 12)', () => {
    expect(CHALLENGE_TTL_SECONDS).toBe(300);
    expect(CHALLENGE_MAX_ATTEMPTS).toBe(5);
  });

  describe('offeredMethods: which methods a challenge offers', () => {
    it('nothing for an account without TOTP or passkey: it has no second step', () => {
      expect(offeredMethods({ totp: false, passkeys: 0, recoveryCodesLeft: 0 })).toEqual([]);
    });

    it('recovery codes alone are no second factor (left over after the last factor went)', () => {
      expect(offeredMethods({ totp: false, passkeys: 0, recoveryCodesLeft: 10 })).toEqual([]);
    });

    it('TOTP, with recovery while codes are left', () => {
      expect(offeredMethods({ totp: true, passkeys: 0, recoveryCodesLeft: 3 })).toEqual(['totp', 'recovery']);
      expect(offeredMethods({ totp: true, passkeys: 0, recoveryCodesLeft: 0 })).toEqual(['totp']);
    });

    it('passkeys', () => {
      expect(offeredMethods({ totp: false, passkeys: 2, recoveryCodesLeft: 10 })).toEqual(['webauthn', 'recovery']);
    });

    it('every enrolled method, in a stable order', () => {
      expect(offeredMethods({ totp: true, passkeys: 1, recoveryCodesLeft: 1 })).toEqual(['totp', 'webauthn', 'recovery']);
    });
  });

  describe('refusalOf: whether a try is judged', () => {
    it('a live challenge judges an offered method', () => {
      expect(refusalOf(challenge(), 'totp', NOW)).toBeNull();
      expect(refusalOf(challenge(), 'recovery', later(299))).toBeNull();
    });

    it('expired at 5 minutes', () => {
      expect(refusalOf(challenge(), 'totp', later(CHALLENGE_TTL_SECONDS))).toBe('expired');
      expect(refusalOf(challenge(), 'totp', later(3600))).toBe('expired');
    });

    it('used once answered (or after its last wrong try)', () => {
      expect(refusalOf(challenge({ consumedAt: NOW }), 'totp', NOW)).toBe('used');
    });

    it('exhausted after 5 wrong tries', () => {
      expect(refusalOf(challenge({ attempts: 4 }), 'totp', NOW)).toBeNull();
      expect(refusalOf(challenge({ attempts: 5 }), 'totp', NOW)).toBe('exhausted');
    });

    it('a method that was not offered is refused without a try spent', () => {
      expect(refusalOf(challenge({ methods: ['totp'] }), 'webauthn', NOW)).toBe('not-offered');
      expect(refusalOf(challenge({ methods: ['totp'] }), 'recovery', NOW)).toBe('not-offered');
    });

    it('an over challenge says so before judging the method (no probing of what it offered)', () => {
      expect(refusalOf(challenge({ methods: ['totp'], attempts: 5 }), 'webauthn', NOW)).toBe('exhausted');
      expect(refusalOf(challenge({ methods: ['totp'] }), 'webauthn', later(301))).toBe('expired');
    });
  });

  describe('afterWrongTry', () => {
    it('counts the try and says how many are left', () => {
      expect(afterWrongTry({ attempts: 0 })).toEqual({ attempts: 1, triesLeft: 4, exhausted: false });
      expect(afterWrongTry({ attempts: 3 })).toEqual({ attempts: 4, triesLeft: 1, exhausted: false });
    });

    it('the fifth wrong try ends the challenge', () => {
      expect(afterWrongTry({ attempts: 4 })).toEqual({ attempts: 5, triesLeft: 0, exhausted: true });
    });

    it('five wrong tries in a row leave a challenge that judges nothing more', () => {
      let state = challenge();
      for (let i = 0; i < CHALLENGE_MAX_ATTEMPTS; i++) {
        expect(refusalOf(state, 'totp', NOW)).toBeNull();
        state = { ...state, attempts: afterWrongTry(state).attempts };
      }
      expect(refusalOf(state, 'totp', NOW)).toBe('exhausted');
      expect(refusalOf(state, 'recovery', NOW)).toBe('exhausted');
    });

    it('a one-try challenge (passkey sign-in) is over after one', () => {
      expect(afterWrongTry({ attempts: 0 }, 1)).toEqual({ attempts: 1, triesLeft: 0, exhausted: true });
    });
  });
});
