import type { LoggerService } from '@nestjs/common';
import { pino, type Logger as Pino } from 'pino';
import type { LogLevel } from '../config/config.schema.js';

/** One pino instance for the process: structured JSON lines on stdout. */
export function createRootLogger(level: LogLevel): Pino {
  return pino({ level, base: { service: 'analytics' }, timestamp: pino.stdTimeFunctions.isoTime });
}

/**
 * Routes Nest's Logger (used by framework and modules alike) into pino, so every line is JSON.
 * Nest passes `(message, ...params, context)`; an object message becomes structured fields.
 */
export class PinoLoggerService implements LoggerService {
  constructor(private readonly root: Pino) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: 'info' | 'error' | 'warn' | 'debug' | 'trace' | 'fatal', message: unknown, params: unknown[]) {
    const context = typeof params.at(-1) === 'string' ? (params.pop() as string) : undefined;
    const fields: Record<string, unknown> = context ? { context } : {};
    if (typeof message === 'object' && message !== null && !(message instanceof Error)) {
      const text = typeof params[0] === 'string' ? (params.shift() as string) : undefined;
      this.root[level]({ ...fields, ...(message as object) }, text);
      return;
    }
    if (message instanceof Error) {
      this.root[level]({ ...fields, err: message }, message.message);
      return;
    }
    // Nest passes a stack trace as the first extra param to error().
    if (level === 'error' && typeof params[0] === 'string') fields.stack = params.shift();
    this.root[level](fields, String(message));
  }
}
