import type { RoomInfo, StreamAnalysis } from '@lookout/contracts';
import { useEffect, useState } from 'preact/hooks';
import { api } from './api';
import type { LiveSocket } from './live-socket';

/**
 * The SFU's analysis state of one stream of the room, kept current: read from the room
 * info when the socket joins or `active` turns on, then from `analysis_state` events.
 * Undefined while the SFU has no such stream (not publishing, or the fallback path).
 */
export function useStreamAnalysis(socket: LiveSocket | null, room: string, stream: string, token: () => Promise<string>, active: boolean): StreamAnalysis | undefined {
  const [analysis, setAnalysis] = useState<StreamAnalysis | undefined>(undefined);
  useEffect(() => {
    if (!socket || !active) return setAnalysis(undefined);
    let closed = false;
    const read = async () => {
      try {
        const info = await api<RoomInfo>(`/rooms/${encodeURIComponent(room)}`, { token: await token() });
        if (!closed) setAnalysis(info.streams.find((s) => s.stream === stream)?.analysis);
      } catch {
        // No room info (yet): the next event or join tells.
      }
    };
    const offs = [
      socket.on('joined', () => void read()),
      socket.on('sfuevent', (e) => {
        if (e.type === 'analysis_state' && e.stream === stream) setAnalysis(e.analysis);
        else if (e.type === 'stream_state' && e.stream === stream) void read();
      }),
    ];
    if (socket.live) void read();
    return () => ((closed = true), offs.forEach((off) => off()));
  }, [socket, room, stream, token, active]);
  return analysis;
}
