import type { AlertEvent, AnalysisMessage, StreamMetricsEvent } from '@lookout/contracts';
import type { Outgoing } from './outbox.js';

/** The feed messages a publisher socket is shown only about its own streams, and redacted. */
const PUBLISHER_FILTERED = new Set(['analysis', 'alert', 'metrics']);

type Envelope =
  | { type: 'analysis'; data: AnalysisMessage }
  | { type: 'alert'; data: AlertEvent }
  | { type: 'metrics'; data: StreamMetricsEvent };

/**
 * What a publisher socket (the person proctored) is shown of its room's feeds (issue 17):
 * - only its own streams: a stream it produced over WebRTC or uploaded frames to from this
 *   socket, or one whose analysis names its peer as the publishing one (another socket of
 *   the same peer). A stream whose analysis names another peer is no longer its own.
 *   Alerts and metrics carry no peer, so they follow what analysis and this socket's own
 *   produce/upload said;
 * - no gallery identity: identification is for admins and viewers. `identity` of every face
 *   is null, the principal's `subjectId` and `name` are null, an alert's `from`/`to` keep
 *   only `trackId` (`subjectId` and `name` null, no `similarity`), its `faceRef` is left out
 *   and an `identity_changed` message names nobody; the people of a second of metrics keep
 *   their track and frames, with `subjectId` and `name` null. All of it is valid under the schemas.
 */
export class PublisherView {
  /** room/stream of this socket's peer */
  private readonly own = new Set<string>();

  /** The socket produced or uploaded `stream` in `room`. */
  claim(room: string, stream: string): void {
    this.own.add(`${room}/${stream}`);
  }

  /** The message as this publisher (`peer` in `room`) may see it, or undefined: not for it. */
  filter(m: Outgoing, peerIn: (room: string) => string | undefined): Outgoing | undefined {
    if (!PUBLISHER_FILTERED.has(m.type)) return m;
    const msg = JSON.parse(m.data.toString('utf8')) as Envelope;
    const { room, stream } = msg.data;
    const peer = peerIn(room);
    if (peer === undefined) return m;
    const key = `${room}/${stream}`;
    if (msg.type === 'analysis' && msg.data.peer !== undefined) {
      if (msg.data.peer === peer) this.own.add(key);
      else this.own.delete(key);
    }
    if (!this.own.has(key)) return undefined;
    redact(msg);
    return { ...m, data: Buffer.from(JSON.stringify(msg)) };
  }
}

function redact(msg: Envelope): void {
  if (msg.type === 'analysis') {
    for (const face of msg.data.faces) face.identity = null;
    if (msg.data.principal) Object.assign(msg.data.principal, { subjectId: null, name: null });
  } else if (msg.type === 'alert') {
    const a = msg.data;
    for (const side of ['from', 'to'] as const) {
      const p = a[side];
      if (p) a[side] = { subjectId: null, name: null, ...(p.trackId !== undefined ? { trackId: p.trackId } : {}) };
    }
    delete a.faceRef;
    if (a.kind === 'identity_changed') a.message = 'Identity changed';
  } else if (msg.type === 'metrics') {
    // The second's people (attendance) keep their tracks and frames, not who they are.
    for (const p of msg.data.people ?? []) Object.assign(p, { subjectId: null, name: null });
  }
}
