import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs on stdout; one logger per service, children per module. */
export function createLogger(service: string, level: string, instance: string): Logger {
  return pino({ name: service, level, base: { service, instance }, timestamp: pino.stdTimeFunctions.isoTime });
}
