import { numberToText } from './dto-transforms';
import { codeToText } from '../api/legacy/users-002/users-api.dto';

describe('numbers read as text', () => {
  it('numberToText: a phone sent as a JSON number becomes text only when it is a whole number 0…2^53−1', () => {
    expect(numberToText({ value: 89999999999 })).toBe('89999999999');
    expect(numberToText({ value: '+7 999' })).toBe('+7 999');
    for (const value of [-1, 1e308, 2 ** 53, 1.5, Infinity, NaN]) expect(numberToText({ value })).toBe(value);
  });

  it('codeToText: a code sent as a JSON number is padded only within 0…999999; others fail the string check', () => {
    expect(codeToText({ value: 1234 })).toBe('001234');
    expect(codeToText({ value: ' 042917 ' })).toBe('042917');
    for (const value of [1_000_000, -1, 1e308, 2 ** 53 + 1, 12.5]) expect(codeToText({ value })).toBe(value);
  });
});
