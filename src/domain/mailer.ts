/** How the domain sends mail (src/mail implements it with nodemailer; without SMTP_URL, the log). */
export interface Mail {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(mail: Mail): Promise<void>;
}
