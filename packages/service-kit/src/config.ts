import { Type, type Static, type TObject, type TProperties } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/**
 * Service configuration comes from the environment. A config is a TypeBox object whose
 * camelCase keys map to SCREAMING_SNAKE env names (natsUrl ↔ NATS_URL); every field has a
 * description and, where sensible, a default, so `describeConfig` can print the docs.
 */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`config: ${variable}: ${detail}`);
    this.name = 'ConfigError';
  }
}

export function envName(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/** Fields every service shares. */
export const CommonConfig = {
  natsUrl: Type.String({ default: 'nats://127.0.0.1:4222', description: 'NATS server URL(s), comma-separated' }),
  natsUser: Type.Optional(Type.String({ minLength: 1, description: 'NATS user (with NATS_PASSWORD) when the server requires auth' })),
  natsPassword: Type.Optional(Type.String({ minLength: 1, description: 'NATS password' })),
  natsPasswordFile: Type.Optional(
    Type.String({ minLength: 1, description: 'File holding the NATS password, instead of NATS_PASSWORD (a mounted secret, e.g. compose\'s generated users); read once at start' }),
  ),
  httpHost: Type.String({ default: '127.0.0.1', description: 'Address the HTTP server binds to' }),
  logLevel: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info', description: 'pino log level' },
  ),
  shutdownTimeoutMs: Type.Integer({ minimum: 100, default: 10_000, description: 'Force exit if draining takes longer' }),
  jetstreamReplicas: Type.Integer({ minimum: 1, maximum: 5, default: 1, description: 'Replicas of the JetStream stores a service creates; an owner raises its stores to this (never lowers them)' }),
  instanceId: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'Instance id (default: <service>-<hostname>-<pid>)' })),
};

/**
 * A service's config: the common fields, its HTTP port (each service has its own default
 * so they can share a host), and its own fields.
 */
export function configSchema<P extends TProperties>(defaultHttpPort: number, props: P) {
  const httpPort = Type.Integer({
    minimum: 0,
    maximum: 65535,
    default: defaultHttpPort,
    description: 'HTTP port (health, metrics; the public API for the gateway). 0 = any free port',
  });
  return Type.Object({ ...CommonConfig, httpPort, ...props }, { additionalProperties: false });
}

/** Reads, coerces, defaults and validates config from `env`; errors name the variable. */
export function loadConfig<T extends TObject>(schema: T, env: NodeJS.ProcessEnv = process.env): Static<T> {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(schema.properties)) {
    const value = env[envName(key)];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const converted = Value.Default(schema, Value.Convert(schema, raw));
  const first = Value.Errors(schema, converted).First();
  if (first) {
    const key = first.path.replace(/^\//, '').split('/')[0] ?? '';
    const shown = key in raw ? ` (got ${JSON.stringify(raw[key])})` : ' (not set)';
    throw new ConfigError(envName(key), `${first.message}${shown}`);
  }
  return converted as Static<T>;
}

/** Markdown table of a config schema, for docs. */
export function describeConfig(schema: TObject): string {
  const rows = Object.entries(schema.properties).map(([key, s]) => {
    const def = s.default === undefined ? (schema.required?.includes(key) ? '(required)' : '') : `\`${JSON.stringify(s.default)}\``;
    return `| \`${envName(key)}\` | ${def} | ${s.description ?? ''} |`;
  });
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}
