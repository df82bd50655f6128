import { join } from 'node:path';
import { type DynamicModule, Logger, Module } from '@nestjs/common';
import { closeOnShutdown } from '../close-on-shutdown.js';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/config.schema.js';
import { EmlFileMailer } from './eml-file.mailer.js';
import { MAILER, type Mailer } from './mail.port.js';
import { SmtpMailer } from './smtp.mailer.js';

/** Mail: SMTP through nodemailer when SMTP_URL is set, else `.eml` files in DATA_DIR/outbox. */
@Module({})
export class MailModule {
  static forRoot(): DynamicModule {
    return {
      module: MailModule,
      providers: [
        {
          provide: MAILER,
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig): Mailer => {
            const logger = new Logger('mail');
            if (config.mail.smtpUrl) {
              const mailer = new SmtpMailer(config.mail.smtpUrl, config.mail.from, { logger });
              logger.log({ kind: mailer.kind, server: mailer.server }, 'mail goes through SMTP');
              return mailer;
            }
            const mailer = new EmlFileMailer(join(config.dataDir, 'outbox'), config.mail.from, { logger });
            logger.log({ kind: mailer.kind, dir: mailer.dir }, 'mail is written as .eml files (set SMTP_URL to send it)');
            return mailer;
          },
        },
        closeOnShutdown(MAILER),
      ],
      exports: [MAILER],
    };
  }
}
