import { Type } from '@sinclair/typebox';
import { ConfigError, configSchema, describeConfig, envName, loadConfig } from '@lookout/service-kit';

const schema = configSchema(9000, {
  maxFrameAgeMs: Type.Integer({ minimum: 1, default: 500, description: 'drop older frames' }),
  ratio: Type.Number({ minimum: 0, maximum: 1, default: 0.5 }),
  enabled: Type.Boolean({ default: false }),
});

describe('config from env', () => {
  it('maps camelCase keys to SCREAMING_SNAKE variables', () => {
    expect(envName('maxFrameAgeMs')).toBe('MAX_FRAME_AGE_MS');
    expect(envName('natsUrl')).toBe('NATS_URL');
  });

  it('applies defaults', () => {
    const c = loadConfig(schema, {});
    expect(c).toMatchObject({ httpPort: 9000, maxFrameAgeMs: 500, natsUrl: 'nats://127.0.0.1:4222', logLevel: 'info', enabled: false });
  });

  it('coerces strings from the environment', () => {
    const c = loadConfig(schema, { MAX_FRAME_AGE_MS: '250', RATIO: '0.25', ENABLED: 'true', HTTP_PORT: '0' });
    expect(c).toMatchObject({ maxFrameAgeMs: 250, ratio: 0.25, enabled: true, httpPort: 0 });
  });

  it('names the variable and the value in errors', () => {
    expect(() => loadConfig(schema, { MAX_FRAME_AGE_MS: 'soon' })).toThrow(ConfigError);
    expect(() => loadConfig(schema, { MAX_FRAME_AGE_MS: 'soon' })).toThrow(/MAX_FRAME_AGE_MS: .*"soon"/);
    expect(() => loadConfig(schema, { RATIO: '2' })).toThrow(/^config: RATIO:/);
    expect(() => loadConfig(schema, { LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
    expect(() => loadConfig(schema, { HTTP_PORT: '70000' })).toThrow(/HTTP_PORT/);
  });

  it('documents every variable', () => {
    const doc = describeConfig(schema);
    expect(doc).toContain('| `MAX_FRAME_AGE_MS` | `500` | drop older frames |');
    expect(doc).toContain('`NATS_URL`');
  });
});
