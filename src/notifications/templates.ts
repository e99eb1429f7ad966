import { Locale } from '../common/locale';
import { MessageChannel } from './outbox-message.entity';

/** Every message the service sends. Verification templates carry a code, a link, or both. */
export type TemplateName = 'email-verify' | 'phone-verify' | 'password-reset' | 'password-change' | 'email-change' | SecurityNoticeName;

/** SPEC §9 rule 3: the notices sent to the owner's previous verified address. */
export type SecurityNoticeName =
  | 'password-changed'
  | 'password-reset-done'
  | 'email-changed'
  | 'phone-changed'
  | 'second-factor-added'
  | 'second-factor-removed'
  | 'recovery-code-used'
  | 'recovery-codes-renewed'
  | 'second-factors-reset';

/** A second factor as a notice names it: an authenticator app, or a passkey by its name. */
export interface NoticeFactor {
  kind: 'totp' | 'webauthn';
  name?: string | null;
}

export interface TemplateParams {
  code?: string;
  link?: string;
  /** How long the code lives. */
  codeMinutes?: number;
  /** How long the link lives. */
  linkMinutes?: number;
  /** Contacts a reset removed from the account because they were never verified (SPEC §9 rule 2). */
  detached?: string[];
  /** The second factor a notice is about. */
  factor?: NoticeFactor;
  /** The removed factor was the last one: sign-in asks for no second step any more. */
  lastFactor?: boolean;
  /** Recovery codes left after one was used. */
  remaining?: number;
}

export interface RenderedMessage {
  subject: string;
  text: string;
  /** Absent for SMS. */
  html?: string;
}

interface Copy {
  subject: string;
  intro: string;
  codeLine?: (code: string, minutes: number) => string;
  linkLine?: (minutes: number) => string;
  outro: string;
  /** The SMS form: verification messages carry their code; notices have none. */
  sms?: (code: string, minutes: number) => string;
  /** A notice's SMS form has no code. */
  notice?: true;
  /** After the intro: the contacts a reset detached. */
  detachedLine?: (contacts: string) => string;
  /** After the intro: what a notice is about (a factor, the codes left…), when its params say. */
  detailLine?: (params: TemplateParams) => string | null;
}

/** How a notice names a second factor. */
const factorName = {
  en: (factor?: NoticeFactor) => (factor?.kind === 'webauthn' ? (factor.name ? `the passkey "${factor.name}"` : 'a passkey') : 'an authenticator app'),
  ru: (factor?: NoticeFactor) => (factor?.kind === 'webauthn' ? (factor.name ? `ключ доступа «${factor.name}»` : 'ключ доступа') : 'приложение-аутентификатор'),
};

const duration = {
  en: (minutes: number) => (minutes % 60 === 0 && minutes >= 60 ? plural(minutes / 60, 'hour', 'hours') : plural(minutes, 'minute', 'minutes')),
  ru: (minutes: number) =>
    minutes % 60 === 0 && minutes >= 60 ? ruPlural(minutes / 60, 'час', 'часа', 'часов') : ruPlural(minutes, 'минуту', 'минуты', 'минут'),
};

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function ruPlural(n: number, one: string, few: string, many: string): string {
  const tens = n % 100;
  const units = n % 10;
  const word = tens >= 11 && tens <= 14 ? many : units === 1 ? one : units >= 2 && units <= 4 ? few : many;
  return `${n} ${word}`;
}

const IGNORE = {
  en: 'If you did not ask for this, ignore this message; nothing changes until the code or link is used.',
  ru: 'Если вы этого не запрашивали, просто проигнорируйте письмо: без кода или ссылки ничего не изменится.',
};

const SECURITY = {
  en: 'If this was not you, reset your password at once: every other session has been signed out.',
  ru: 'Если это были не вы, немедленно восстановите пароль: все остальные сеансы уже завершены.',
};

const COPY: Record<Locale, Record<TemplateName, Copy>> = {
  en: {
    'email-verify': {
      subject: 'Confirm your e-mail address',
      intro: 'Please confirm that this e-mail address is yours.',
      codeLine: (code, minutes) => `Your confirmation code: ${code} (valid for ${duration.en(minutes)}).`,
      linkLine: (minutes) => `Or open this link (valid for ${duration.en(minutes)}):`,
      outro: IGNORE.en,
    },
    'phone-verify': {
      subject: 'Phone confirmation code',
      intro: '',
      outro: '',
      sms: (code, minutes) => `Your confirmation code: ${code}. Valid for ${duration.en(minutes)}. Do not share it with anyone.`,
    },
    'password-reset': {
      subject: 'Reset your password',
      intro: 'Someone asked to reset the password of your account.',
      codeLine: (code, minutes) => `Your password reset code: ${code} (valid for ${duration.en(minutes)}).`,
      linkLine: (minutes) => `Or set a new password through this link (valid for ${duration.en(minutes)}):`,
      outro: IGNORE.en,
      sms: (code, minutes) => `Password reset code: ${code}. Valid for ${duration.en(minutes)}. Do not share it with anyone.`,
    },
    'password-change': {
      subject: 'Password change code',
      intro: 'You asked to change the password of your account.',
      codeLine: (code, minutes) => `Your code: ${code} (valid for ${duration.en(minutes)}).`,
      outro: IGNORE.en,
    },
    'email-change': {
      subject: 'Confirm your new e-mail address',
      intro: 'You asked to use this address for your account. It changes once you confirm it.',
      codeLine: (code, minutes) => `Your confirmation code: ${code} (valid for ${duration.en(minutes)}).`,
      linkLine: (minutes) => `Or open this link (valid for ${duration.en(minutes)}):`,
      outro: IGNORE.en,
    },
    'password-changed': {
      subject: 'Your password was changed',
      intro: 'The password of your account has just been changed.',
      outro: SECURITY.en,
      notice: true,
      sms: () => 'The password of your account was changed. If this was not you, reset it at once.',
    },
    'password-reset-done': {
      subject: 'Your password was reset',
      intro: 'The password of your account has just been reset, and every session was signed out.',
      detachedLine: (contacts) => `These contacts were never confirmed and have been removed from the account: ${contacts}.`,
      outro: 'If this was not you, reset your password again at once and check your e-mail account.',
      notice: true,
      sms: () => 'The password of your account was reset and every session signed out. If this was not you, reset it again at once.',
    },
    'email-changed': {
      subject: 'The e-mail address of your account was changed',
      intro: 'The e-mail address of your account has just been changed; messages no longer come to this address.',
      linkLine: (minutes) =>
        `If this was not you, open this link (valid for ${duration.en(minutes)}) to restore this address, sign out every session and get a password reset link here:`,
      outro: 'If it was you, there is nothing to do.',
      notice: true,
      sms: () => 'The e-mail address of your account was changed. If this was not you, reset your password at once.',
    },
    'phone-changed': {
      subject: 'The phone number of your account was changed',
      intro: 'The phone number of your account has just been changed.',
      outro: SECURITY.en,
      notice: true,
      sms: () => 'The phone number of your account was changed. If this was not you, reset your password at once.',
    },
    'second-factor-added': {
      subject: 'A second factor was added to your account',
      intro: 'A second sign-in factor was just added to your account.',
      detailLine: (params) => `Added: ${factorName.en(params.factor)}.`,
      outro: 'If this was not you, reset your password at once: someone else can sign in to your account.',
      notice: true,
      sms: () => 'A second sign-in factor was added to your account. If this was not you, reset your password at once.',
    },
    'second-factor-removed': {
      subject: 'A second factor was removed from your account',
      intro: 'A second sign-in factor was just removed from your account.',
      detailLine: (params) =>
        `Removed: ${factorName.en(params.factor)}.` +
        (params.lastFactor ? ' Sign-in no longer asks for a second factor, and the app passwords of the account were revoked.' : ''),
      outro: SECURITY.en,
      notice: true,
      sms: () => 'A second sign-in factor was removed from your account. If this was not you, reset your password at once.',
    },
    'recovery-code-used': {
      subject: 'A recovery code was used to sign in',
      intro: 'One of your recovery codes was just used to sign in to your account. Each code works once.',
      detailLine: (params) => (params.remaining === undefined ? null : `Recovery codes left: ${params.remaining}.`),
      outro: 'If this was not you, reset your password at once and create new recovery codes.',
      notice: true,
      sms: () => 'A recovery code was used to sign in to your account. If this was not you, reset your password at once.',
    },
    'recovery-codes-renewed': {
      subject: 'New recovery codes were created',
      intro: 'New recovery codes were just created for your account; the previous ones no longer work.',
      outro: SECURITY.en,
      notice: true,
      sms: () => 'New recovery codes were created for your account. If this was not you, reset your password at once.',
    },
    'second-factors-reset': {
      subject: 'The second factors of your account were removed',
      intro:
        'An administrator removed every second factor, recovery code and app password of your account, and signed out every session. You can sign in with your password and set up a second factor again.',
      outro: 'If you did not ask for this, contact support.',
      notice: true,
      sms: () => 'An administrator removed the second factors of your account and signed out every session.',
    },
  },
  ru: {
    'email-verify': {
      subject: 'Подтвердите адрес электронной почты',
      intro: 'Подтвердите, пожалуйста, что этот адрес принадлежит вам.',
      codeLine: (code, minutes) => `Код подтверждения: ${code} (действует ${duration.ru(minutes)}).`,
      linkLine: (minutes) => `Или откройте ссылку (действует ${duration.ru(minutes)}):`,
      outro: IGNORE.ru,
    },
    'phone-verify': {
      subject: 'Код подтверждения телефона',
      intro: '',
      outro: '',
      sms: (code, minutes) => `Код подтверждения: ${code}. Действует ${duration.ru(minutes)}. Никому его не сообщайте.`,
    },
    'password-reset': {
      subject: 'Восстановление пароля',
      intro: 'Поступил запрос на восстановление пароля вашей учётной записи.',
      codeLine: (code, minutes) => `Код восстановления: ${code} (действует ${duration.ru(minutes)}).`,
      linkLine: (minutes) => `Или задайте новый пароль по ссылке (действует ${duration.ru(minutes)}):`,
      outro: IGNORE.ru,
      sms: (code, minutes) => `Код восстановления пароля: ${code}. Действует ${duration.ru(minutes)}. Никому его не сообщайте.`,
    },
    'password-change': {
      subject: 'Код для смены пароля',
      intro: 'Вы запросили смену пароля вашей учётной записи.',
      codeLine: (code, minutes) => `Ваш код: ${code} (действует ${duration.ru(minutes)}).`,
      outro: IGNORE.ru,
    },
    'email-change': {
      subject: 'Подтвердите новый адрес электронной почты',
      intro: 'Вы указали этот адрес для своей учётной записи. Он сменится после подтверждения.',
      codeLine: (code, minutes) => `Код подтверждения: ${code} (действует ${duration.ru(minutes)}).`,
      linkLine: (minutes) => `Или откройте ссылку (действует ${duration.ru(minutes)}):`,
      outro: IGNORE.ru,
    },
    'password-changed': {
      subject: 'Пароль изменён',
      intro: 'Пароль вашей учётной записи только что был изменён.',
      outro: SECURITY.ru,
      notice: true,
      sms: () => 'Пароль вашей учётной записи изменён. Если это были не вы, немедленно восстановите его.',
    },
    'password-reset-done': {
      subject: 'Пароль восстановлен',
      intro: 'Пароль вашей учётной записи только что был сброшен, все сеансы завершены.',
      detachedLine: (contacts) => `Эти контакты не были подтверждены и удалены из учётной записи: ${contacts}.`,
      outro: 'Если это были не вы, немедленно восстановите пароль ещё раз и проверьте свой почтовый ящик.',
      notice: true,
      sms: () => 'Пароль вашей учётной записи сброшен, все сеансы завершены. Если это были не вы, немедленно восстановите его.',
    },
    'email-changed': {
      subject: 'Адрес почты учётной записи изменён',
      intro: 'Адрес электронной почты вашей учётной записи только что изменён; письма на этот адрес больше не приходят.',
      linkLine: (minutes) =>
        `Если это были не вы, откройте ссылку (действует ${duration.ru(minutes)}): адрес вернётся, все сеансы завершатся, а сюда придёт ссылка для смены пароля:`,
      outro: 'Если это были вы, ничего делать не нужно.',
      notice: true,
      sms: () => 'Адрес почты вашей учётной записи изменён. Если это были не вы, немедленно восстановите пароль.',
    },
    'phone-changed': {
      subject: 'Номер телефона учётной записи изменён',
      intro: 'Номер телефона вашей учётной записи только что изменён.',
      outro: SECURITY.ru,
      notice: true,
      sms: () => 'Номер телефона вашей учётной записи изменён. Если это были не вы, немедленно восстановите пароль.',
    },
    'second-factor-added': {
      subject: 'К учётной записи добавлен второй фактор',
      intro: 'К вашей учётной записи только что добавлен второй фактор входа.',
      detailLine: (params) => `Добавлен: ${factorName.ru(params.factor)}.`,
      outro: 'Если это были не вы, немедленно восстановите пароль: кто-то другой может войти в вашу учётную запись.',
      notice: true,
      sms: () => 'К вашей учётной записи добавлен второй фактор входа. Если это были не вы, немедленно восстановите пароль.',
    },
    'second-factor-removed': {
      subject: 'Второй фактор удалён из учётной записи',
      intro: 'Из вашей учётной записи только что удалён второй фактор входа.',
      detailLine: (params) =>
        `Удалён: ${factorName.ru(params.factor)}.` + (params.lastFactor ? ' Вход больше не запрашивает второй фактор, пароли приложений отозваны.' : ''),
      outro: SECURITY.ru,
      notice: true,
      sms: () => 'Из вашей учётной записи удалён второй фактор входа. Если это были не вы, немедленно восстановите пароль.',
    },
    'recovery-code-used': {
      subject: 'Для входа использован резервный код',
      intro: 'Для входа в вашу учётную запись только что использован один из резервных кодов. Каждый код действует один раз.',
      detailLine: (params) => (params.remaining === undefined ? null : `Осталось резервных кодов: ${params.remaining}.`),
      outro: 'Если это были не вы, немедленно восстановите пароль и создайте новые резервные коды.',
      notice: true,
      sms: () => 'Для входа в вашу учётную запись использован резервный код. Если это были не вы, немедленно восстановите пароль.',
    },
    'recovery-codes-renewed': {
      subject: 'Созданы новые резервные коды',
      intro: 'Для вашей учётной записи только что созданы новые резервные коды; прежние больше не действуют.',
      outro: SECURITY.ru,
      notice: true,
      sms: () => 'Для вашей учётной записи созданы новые резервные коды. Если это были не вы, немедленно восстановите пароль.',
    },
    'second-factors-reset': {
      subject: 'Вторые факторы учётной записи удалены',
      intro:
        'Администратор удалил все вторые факторы, резервные коды и пароли приложений вашей учётной записи и завершил все сеансы. Вы можете войти по паролю и снова настроить второй фактор.',
      outro: 'Если вы этого не запрашивали, обратитесь в поддержку.',
      notice: true,
      sms: () => 'Администратор удалил вторые факторы вашей учётной записи и завершил все сеансы.',
    },
  },
};

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": '#39' }[c]};`);
}

/** Subject, plain text and HTML of one message; SMS gets one short line. */
export function renderTemplate(name: TemplateName, locale: Locale, channel: MessageChannel, params: TemplateParams = {}): RenderedMessage {
  const copy = COPY[locale][name];
  const codeMinutes = params.codeMinutes ?? 10;
  if (channel === 'sms') {
    if (!copy.sms || (!params.code && !copy.notice)) throw new Error(`template ${name} has no SMS form`);
    return { subject: copy.subject, text: copy.sms(params.code ?? '', codeMinutes) };
  }
  if (!copy.intro) throw new Error(`template ${name} has no e-mail form`);
  const lines: { text: string; html: string }[] = [{ text: copy.intro, html: `<p>${escapeHtml(copy.intro)}</p>` }];
  const detail = copy.detailLine?.(params);
  if (detail) lines.push({ text: detail, html: `<p>${escapeHtml(detail)}</p>` });
  if (params.detached?.length && copy.detachedLine) {
    const line = copy.detachedLine(params.detached.join(', '));
    lines.push({ text: line, html: `<p>${escapeHtml(line)}</p>` });
  }
  if (params.code && copy.codeLine) {
    const line = copy.codeLine(params.code, codeMinutes);
    lines.push({
      text: line,
      html: `<p>${escapeHtml(line).replace(params.code, `<strong style="font-size:1.4em;letter-spacing:0.1em">${params.code}</strong>`)}</p>`,
    });
  }
  if (params.link && copy.linkLine) {
    const line = copy.linkLine(params.linkMinutes ?? 60);
    const href = escapeHtml(params.link);
    lines.push({ text: `${line}\n${params.link}`, html: `<p>${escapeHtml(line)}<br><a href="${href}">${href}</a></p>` });
  }
  if (copy.outro) lines.push({ text: copy.outro, html: `<p style="color:#666">${escapeHtml(copy.outro)}</p>` });
  return {
    subject: copy.subject,
    text: lines.map((line) => line.text).join('\n\n') + '\n',
    html: `<!doctype html><html lang="${locale}"><body style="font-family:sans-serif">${lines.map((line) => line.html).join('')}</body></html>`,
  };
}
