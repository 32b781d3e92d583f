/** A real SMTP server in-process (smtp-server) that keeps every delivered mail for the test to read. */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface Delivered {
  to: string[];
  raw: string;
}

export interface TestSmtp {
  url: string;
  mails: Delivered[];
  /** The first mail to `to` (now or later) whose raw text matches `pattern`; resolves with the match. */
  next(to: string, after?: number, timeoutMs?: number): Promise<Delivered>;
  close(): Promise<void>;
}

export async function startSmtp(): Promise<TestSmtp> {
  const mails: Delivered[] = [];
  const waiters = new Set<() => void>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      let raw = '';
      stream.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw });
        for (const wake of waiters) wake();
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    next(to, after = 0, timeoutMs = 5000) {
      const find = () => mails.slice(after).find((m) => m.to.includes(to));
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = find();
          if (!found) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no mail to ${to} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The 6-digit code in a delivered mail's body. */
export function codeOf(mail: Delivered): string {
  const body = mail.raw.slice(mail.raw.indexOf('\r\n\r\n'));
  const m = /code for .* is (\d{6})\./.exec(body);
  if (!m) throw new Error(`no code in mail:\n${mail.raw.slice(0, 500)}`);
  return m[1]!;
}
