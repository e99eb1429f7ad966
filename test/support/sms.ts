import { createServer, IncomingHttpHeaders } from 'node:http';
import { AddressInfo } from 'node:net';
import { Inbox } from './inbox';

export interface ReceivedSms {
  to: string;
  text: string;
  headers: IncomingHttpHeaders;
}

export interface SmsReceiver {
  url: string;
  messages: ReceivedSms[];
  /** Requests answered with an error by `failNext`. */
  failedAttempts: number;
  waitFor(predicate: (sms: ReceivedSms) => boolean, timeoutMs?: number): Promise<ReceivedSms>;
  to(phone: string): ReceivedSms[];
  /** The next `count` requests get `status` and are not recorded as delivered. */
  failNext(count: number, status?: number): void;
  close(): Promise<void>;
}

/** A real HTTP server standing in for the SMS gateway: records `{"to","text"}` POSTs. */
export async function startSmsReceiver(): Promise<SmsReceiver> {
  const inbox = new Inbox<ReceivedSms>('SMS');
  const messages = inbox.items;
  let failures = { left: 0, status: 503 };
  const receiver = {
    messages,
    failedAttempts: 0,
  } as SmsReceiver;

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (failures.left > 0) {
        failures.left--;
        receiver.failedAttempts++;
        response.writeHead(failures.status, { 'content-type': 'application/json' }).end('{"error":"gateway unavailable"}');
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { to: string; text: string };
      inbox.add({ to: body.to, text: body.text, headers: request.headers });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return Object.assign(receiver, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/sms`,
    to: (phone: string) => messages.filter((sms) => sms.to === phone),
    failNext(count: number, status = 503) {
      failures = { left: count, status };
    },
    waitFor: (predicate: (sms: ReceivedSms) => boolean, timeoutMs?: number) => inbox.waitFor(predicate, timeoutMs),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
