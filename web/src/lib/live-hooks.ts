import type { WsFeed } from '@lookout/contracts';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { roomToken } from './api';
import { adminKey, tokenFromRoute } from './auth';
import { LiveSocket, type StatusInfo } from './live-socket';

/** Where a page's room credential comes from: the link's token, or minted with the admin key. */
export interface TokenSource {
  get: () => Promise<string>;
  /** True when a fresh token can be minted (so an expired one is not fatal). */
  renewable: boolean;
}

/** Seconds since epoch when a JWT expires (undefined when it is not a readable JWT). */
function expiryOf(token: string): number | undefined {
  try {
    const payload = JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: number };
    return payload.exp;
  } catch {
    return undefined;
  }
}

/** The route's token; else one minted with the admin key and renewed a minute before it expires. */
export function tokenSource(params: URLSearchParams, room: string, role: 'publisher' | 'viewer'): TokenSource | null {
  const fromRoute = tokenFromRoute(params);
  if (fromRoute) return { get: () => Promise.resolve(fromRoute), renewable: false };
  if (!adminKey()) return null;
  let cached: Promise<string> | undefined;
  return {
    renewable: true,
    get: async () => {
      const token = cached ? await cached.catch(() => undefined) : undefined;
      if (token && (expiryOf(token) ?? 0) * 1000 > Date.now() + 60_000) return token;
      cached = roomToken(room, role);
      return cached;
    },
  };
}

/** `tokenSource`, memoized on what it depends on. */
export function useTokenSource(params: URLSearchParams, room: string, role: 'publisher' | 'viewer'): TokenSource | null {
  const routeToken = tokenFromRoute(params);
  const key = adminKey();
  return useMemo(() => (room ? tokenSource(params, room, role) : null), [room, role, routeToken, key]);
}

/**
 * Opens a LiveSocket for the page's lifetime (per room and token source: memoize `tokens`)
 * and follows its status.
 */
export function useLiveSocket(room: string, tokens: TokenSource | null, feeds?: readonly WsFeed[]): { socket: LiveSocket | null; status: StatusInfo } {
  const [socket, setSocket] = useState<LiveSocket | null>(null);
  const [status, setStatus] = useState<StatusInfo>({ status: 'connecting', detail: '', attempt: 0 });
  const feedKey = feeds?.join(',') ?? '';
  useEffect(() => {
    if (!tokens || !room) return;
    const s = new LiveSocket({ room, token: tokens.get, renewable: tokens.renewable, ...(feeds ? { feeds } : {}) });
    const off = s.on('status', setStatus);
    setSocket(s);
    setStatus(s.status);
    return () => (off(), s.close(), setSocket(null));
  }, [room, tokens, feedKey]);
  return { socket, status };
}

/** "Live", "Reconnecting (attempt 2): …" — the socket status as the pages show it. */
export function statusText(s: StatusInfo): { text: string; tone: 'ok' | 'warn' | 'bad' | '' } {
  switch (s.status) {
    case 'live':
      return { text: 'Connected', tone: 'ok' };
    case 'connecting':
      return { text: 'Connecting…', tone: '' };
    case 'joining':
      return { text: 'Joining the room…', tone: '' };
    case 'reconnecting':
      return { text: `Reconnecting (attempt ${s.attempt})${s.detail ? `: ${s.detail}` : ''}`, tone: 'warn' };
    case 'refused':
      return { text: `Refused: ${s.detail}`, tone: 'bad' };
    case 'closed':
      return { text: 'Disconnected', tone: '' };
  }
}
