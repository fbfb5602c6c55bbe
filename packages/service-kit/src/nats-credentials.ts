import { readFileSync } from 'node:fs';
import { ConfigError } from './config.js';

export interface NatsAuthConfig {
  natsUser?: string;
  natsPassword?: string;
  natsPasswordFile?: string;
}

/**
 * The user and password to connect to NATS with, or undefined for a server without auth.
 * The password comes from NATS_PASSWORD or, for secrets mounted as files (compose's
 * generated users, Kubernetes secret volumes), from NATS_PASSWORD_FILE, read once here
 * (surrounding whitespace dropped): the images start node directly, so no shell could
 * turn a file into the variable.
 */
export function natsCredentials(c: NatsAuthConfig, read: (file: string) => string = (f) => readFileSync(f, 'utf8')): { user: string; pass: string } | undefined {
  if (c.natsPassword !== undefined && c.natsPasswordFile !== undefined) throw new ConfigError('NATS_PASSWORD_FILE', 'set NATS_PASSWORD or NATS_PASSWORD_FILE, not both');
  let pass = c.natsPassword;
  if (c.natsPasswordFile !== undefined) {
    try {
      pass = read(c.natsPasswordFile).trim();
    } catch (err) {
      throw new ConfigError('NATS_PASSWORD_FILE', `cannot read ${c.natsPasswordFile} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    if (!pass) throw new ConfigError('NATS_PASSWORD_FILE', `${c.natsPasswordFile} is empty`);
  }
  if ((c.natsUser === undefined) !== (pass === undefined)) throw new ConfigError(c.natsUser === undefined ? 'NATS_USER' : 'NATS_PASSWORD', 'NATS_USER and NATS_PASSWORD (or NATS_PASSWORD_FILE) go together');
  return c.natsUser === undefined || pass === undefined ? undefined : { user: c.natsUser, pass };
}
