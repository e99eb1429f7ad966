import { Locale } from '../common/locale';
import { MessageChannel } from './outbox-message.entity';

/** Every message the service sends. Verification templates carry a code, a link, or both. */
export type TemplateName = 'email-verify' | 'phone-verify' | 'password-reset' | 'password-change' | 'password-changed' | 'password-reset-done';

export interface TemplateParams {
  code?: string;
  link?: string;
  /** How long the code lives. */
  codeMinutes?: number;
  /** How long the link lives. */
  linkMinutes?: number;
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
  sms?: (code: string, minutes: number) => string;
}

const duration = {
  en: (minutes: number) => (minutes % 60 === 0 && minutes >= 60 ? plural(minutes / 60, 'hour', 'hours') : plural(minutes, 'minute', 'minutes')),
  ru: (minutes: number) => (minutes % 60 === 0 && minutes >= 60 ? ruPlural(minutes / 60, 'час', 'часа', 'часов') : ruPlural(minutes, 'минуту', 'минуты', 'минут')),
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
  en: "If you did not ask for this, ignore this message; nothing changes until the code or link is used.",
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
    'password-changed': {
      subject: 'Your password was changed',
      intro: 'The password of your account has just been changed.',
      outro: SECURITY.en,
    },
    'password-reset-done': {
      subject: 'Your password was reset',
      intro: 'The password of your account has just been reset, and every session was signed out.',
      outro: 'If this was not you, reset your password again at once and check your e-mail account.',
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
    'password-changed': {
      subject: 'Пароль изменён',
      intro: 'Пароль вашей учётной записи только что был изменён.',
      outro: SECURITY.ru,
    },
    'password-reset-done': {
      subject: 'Пароль восстановлен',
      intro: 'Пароль вашей учётной записи только что был сброшен, все сеансы завершены.',
      outro: 'Если это были не вы, немедленно восстановите пароль ещё раз и проверьте свой почтовый ящик.',
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
    if (!copy.sms || !params.code) throw new Error(`template ${name} has no SMS form`);
    return { subject: copy.subject, text: copy.sms(params.code, codeMinutes) };
  }
  if (!copy.intro) throw new Error(`template ${name} has no e-mail form`);
  const lines: { text: string; html: string }[] = [{ text: copy.intro, html: `<p>${escapeHtml(copy.intro)}</p>` }];
  if (params.code && copy.codeLine) {
    const line = copy.codeLine(params.code, codeMinutes);
    lines.push({ text: line, html: `<p>${escapeHtml(line).replace(params.code, `<strong style="font-size:1.4em;letter-spacing:0.1em">${params.code}</strong>`)}</p>` });
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
