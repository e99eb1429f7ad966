import { createParamDecorator, ExecutionContext } from '@nestjs/common';

/** Languages the templates are written in; the first one is the default. */
export const LOCALES = ['en', 'ru'] as const;
export type Locale = (typeof LOCALES)[number];

function supported(tag: string | null | undefined): Locale | undefined {
  const language = tag?.trim().toLowerCase().split(/[-_]/)[0];
  return LOCALES.find((locale) => locale === language);
}

/** The best supported language of an `Accept-Language` header (q-values honoured), if any. */
export function preferredLocale(acceptLanguage: string | null | undefined): Locale | undefined {
  if (!acceptLanguage) return undefined;
  const ranked = acceptLanguage
    .split(',')
    .map((part, index) => {
      const [tag, ...params] = part.split(';');
      const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find(Boolean);
      return { locale: supported(tag), q: q === undefined ? 1 : Number(q), index };
    })
    .filter((entry) => entry.locale && entry.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  return ranked[0]?.locale;
}

/** The first supported choice: the user's stored locale, then the request's, then English. */
export function resolveLocale(...choices: (string | null | undefined)[]): Locale {
  for (const choice of choices) {
    const locale = supported(choice);
    if (locale) return locale;
  }
  return LOCALES[0];
}

/** The request's preferred supported language (`Accept-Language`), or undefined. */
export const RequestLocale = createParamDecorator((_: unknown, context: ExecutionContext) =>
  preferredLocale(context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers['accept-language']),
);
