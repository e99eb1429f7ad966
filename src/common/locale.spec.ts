import { preferredLocale, resolveLocale } from './locale';

describe('preferredLocale', () => {
  it.each([
    ['ru-RU,ru;q=0.9,en;q=0.8', 'ru'],
    ['en;q=0.5, ru', 'ru'],
    ['de, en;q=0.7, ru;q=0.6', 'en'],
    ['ru;q=0, en;q=0.1', 'en'],
    ['EN-gb', 'en'],
    ['ru, en', 'ru'],
    ['en, ru', 'en'],
  ])('%s → %s', (header, expected) => {
    expect(preferredLocale(header)).toBe(expected);
  });

  it.each([[undefined], [null], [''], ['de, fr;q=0.9'], ['ru;q=0']])('%s → undefined', (header) => {
    expect(preferredLocale(header)).toBeUndefined();
  });
});

describe('resolveLocale', () => {
  it('takes the first supported choice', () => {
    expect(resolveLocale(null, 'ru', 'en')).toBe('ru');
    expect(resolveLocale('en', 'ru')).toBe('en');
    expect(resolveLocale('de', undefined, 'ru-RU')).toBe('ru');
  });

  it('falls back to English', () => {
    expect(resolveLocale()).toBe('en');
    expect(resolveLocale(null, undefined, 'fr')).toBe('en');
  });
});
