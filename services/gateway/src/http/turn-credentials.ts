import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IceServer } from '@lookout/contracts';
import { ConfigError } from '@lookout/service-kit';
import type { GatewayConfig } from '../config.js';

/**
 * Short-lived TURN credentials in coturn's shared-secret REST scheme (`use-auth-secret` +
 * `static-auth-secret`): username `<expiry unix seconds>:<user>`, credential
 * base64(HMAC-SHA1(secret, username)). coturn recomputes the HMAC and refuses the username
 * once its expiry has passed, so nothing is stored and nothing is revoked: a credential is
 * only handed to a room token holder (token reply, WebSocket join ack) and expires with the
 * token or after TURN_TTL_S, whichever is first. Never logged.
 */
export class TurnCredentials {
  constructor(
    private readonly urls: readonly string[],
    private readonly secret: string,
    private readonly ttlS: number,
  ) {}

  /**
   * From TURN_URLS, TURN_SECRET / TURN_SECRET_FILE and TURN_TTL_S; undefined when
   * TURN_URLS is empty (no TURN: clients get no iceServers). `read` is for tests.
   */
  static fromConfig(
    c: Pick<GatewayConfig, 'turnUrls' | 'turnSecret' | 'turnSecretFile' | 'turnTtlS'>,
    read: (path: string) => string = (p) => readFileSync(p, 'utf8'),
  ): TurnCredentials | undefined {
    const urls = c.turnUrls
      .split(',')
      .map((u) => u.trim())
      .filter(Boolean);
    if (!urls.length) return undefined;
    for (const u of urls) if (!/^turns?:[^\s]+$/.test(u)) throw new ConfigError('TURN_URLS', `not a turn: or turns: URL: ${u}`);
    if (c.turnSecret && c.turnSecretFile) throw new ConfigError('TURN_SECRET_FILE', 'set TURN_SECRET or TURN_SECRET_FILE, not both');
    let secret = c.turnSecret;
    if (c.turnSecretFile) {
      try {
        secret = read(c.turnSecretFile).trim();
      } catch (err) {
        throw new ConfigError('TURN_SECRET_FILE', `cannot read ${c.turnSecretFile} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
      if (!secret) throw new ConfigError('TURN_SECRET_FILE', `${c.turnSecretFile} is empty`);
    }
    if (!secret) throw new ConfigError('TURN_SECRET', 'TURN_URLS is set: the TURN server\'s static-auth-secret is needed (TURN_SECRET or TURN_SECRET_FILE)');
    return new TurnCredentials(urls, secret, c.turnTtlS);
  }

  /**
   * ICE servers for `user` (a peer id), valid for TURN_TTL_S but never past `notAfterMs`
   * (the room token's expiry; none for an admin key).
   */
  issue(user: string, notAfterMs?: number, nowMs = Date.now()): IceServer[] {
    let exp = Math.floor(nowMs / 1000) + this.ttlS;
    if (notAfterMs !== undefined) exp = Math.min(exp, Math.floor(notAfterMs / 1000));
    const username = `${exp}:${user}`;
    const credential = createHmac('sha1', this.secret).update(username).digest('base64');
    return [{ urls: [...this.urls], username, credential }];
  }
}
