/**
 * Outgoing mail (emailed room codes) through nodemailer to SMTP_URL. Without SMTP_URL nothing is
 * sent: the mail is written to the log with a loud warning, which is for local runs only.
 */
import nodemailer from 'nodemailer';
import type { Mailer } from '../domain/mailer.ts';
import type { Logger } from '../log.ts';

export function createMailer(opts: { smtpUrl?: string; from: string; log: Logger }): Mailer & { close(): void } {
  if (!opts.smtpUrl) {
    opts.log.warn('SMTP_URL is not set: emailed sign-in codes will be written to the log instead of sent (local runs only)');
    return {
      async send(mail) {
        opts.log.warn({ to: mail.to, subject: mail.subject, text: mail.text }, '!!! SMTP_URL is not set: this mail was NOT sent; it is logged for local runs only !!!');
      },
      close() {},
    };
  }
  const transport = nodemailer.createTransport(opts.smtpUrl);
  return {
    async send(mail) {
      await transport.sendMail({ from: opts.from, to: mail.to, subject: mail.subject, text: mail.text });
    },
    close: () => transport.close(),
  };
}
