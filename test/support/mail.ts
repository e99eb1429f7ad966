import { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { Inbox } from './inbox';

export interface ReceivedMail {
  /** The first envelope recipient, lower-cased. */
  to: string;
  from: string;
  subject: string;
  text: string;
  html: string;
}

export interface MailServer {
  port: number;
  url: string;
  messages: ReceivedMail[];
  /** The first message (already received or arriving later) that matches. */
  waitFor(predicate: (mail: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  mailsTo(address: string): ReceivedMail[];
  /** Stops accepting connections (keeps the port and the messages) … */
  stop(): Promise<void>;
  /** … and listens again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** A real SMTP server on loopback (plain, no auth), so e-mail tests cross nodemailer and the network. */
export async function startMailServer(): Promise<MailServer> {
  const inbox = new Inbox<ReceivedMail>('mail');
  const messages = inbox.items;
  let port = 0;
  let server: SMTPServer | undefined;

  const listen = async () => {
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream, session, callback) {
        simpleParser(stream)
          .then((parsed) => {
            inbox.add({
              to: String(session.envelope.rcptTo[0]?.address ?? '').toLowerCase(),
              from: parsed.from?.text ?? '',
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: typeof parsed.html === 'string' ? parsed.html : '',
            });
            callback();
          })
          .catch(callback);
      },
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(port, '127.0.0.1', () => resolve());
    });
    port = (server.server.address() as AddressInfo).port;
  };
  const stop = () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));

  await listen();
  return {
    get port() {
      return port;
    },
    get url() {
      return `smtp://127.0.0.1:${port}`;
    },
    messages,
    mailsTo: (address) => messages.filter((mail) => mail.to === address.toLowerCase()),
    waitFor: (predicate, timeoutMs) => inbox.waitFor(predicate, timeoutMs),
    stop,
    start: listen,
    close: stop,
  };
}

/** The first standalone 6-digit number of a message: the code. */
export function codeIn(text: string): string {
  const match = /(?<!\d)\d{6}(?!\d)/.exec(text);
  if (!match) throw new Error(`no 6-digit code in: ${text}`);
  return match[0];
}

/** The first http(s) URL of a message (whose path starts with `pathPrefix`, when given). */
export function linkIn(text: string, pathPrefix?: string): string {
  const link = (text.match(/https?:\/\/[^\s<>"]+/g) ?? []).find((url) => !pathPrefix || new URL(url).pathname.startsWith(pathPrefix));
  if (!link) throw new Error(`no link${pathPrefix ? ` to ${pathPrefix}` : ''} in: ${text}`);
  return link;
}
