import { maskEmail, maskPhone } from './identifiers';

describe('maskEmail', () => {
  it.each([
    ['anna@example.com', 'a*a@example.com'],
    ['mikmez01@gmail.com', 'm*1@gmail.com'],
    ['x@example.com', 'x*@example.com'],
  ])('%s → %s', (email, masked) => {
    expect(maskEmail(email)).toBe(masked);
  });
});

describe('maskPhone', () => {
  it('keeps the country prefix and the last two digits', () => {
    expect(maskPhone('+79991234567')).toBe('+7********67');
  });

  it('hides a very short number completely', () => {
    expect(maskPhone('12345')).toBe('*****');
  });
});
