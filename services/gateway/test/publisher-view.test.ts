import { alertEvent, analysisMessage, streamMetricsEvent, type AlertEvent, type AnalysisMessage, type StreamMetricsEvent } from '@lookout/contracts';
import type { Outgoing } from '../src/ws/outbox.js';
import { PublisherView } from '../src/ws/publisher-view.js';

const out = (type: string, data: unknown): Outgoing => ({ type, drop: 'keep', data: Buffer.from(JSON.stringify({ type, data })), atMs: 1 });
const body = (o: Outgoing | undefined) => (o ? (JSON.parse(o.data.toString('utf8')) as { data: Record<string, unknown> }).data : undefined);
const peerIn = (room: string) => (room === 'r' ? 'alice' : undefined);

const analysis = (stream: string, peer?: string): AnalysisMessage => ({
  room: 'r',
  stream,
  seq: 1,
  captureMs: 1,
  width: 640,
  height: 480,
  timings: {},
  ...(peer ? { peer } : {}),
  faces: [{ box: [0, 0, 10, 10], score: 0.9, trackId: 't1', identity: { subjectId: 'obama', name: 'Barack Obama', similarity: 0.8 } }],
  principal: { subjectId: 'obama', name: 'Barack Obama', expected: false, status: 'present' },
});
const alert = (stream: string): AlertEvent => ({
  id: 'a1',
  kind: 'identity_changed',
  severity: 'critical',
  state: 'open',
  room: 'r',
  stream,
  startMs: 1,
  startSeq: 1,
  message: 'Identity changed: Barack Obama → an unknown person',
  from: { subjectId: 'obama', name: 'Barack Obama', similarity: 0.8, trackId: 't1' },
  to: { subjectId: null, name: null },
  faceRef: 'ref',
});

describe('PublisherView: what a publisher socket is shown of its room (issue 17)', () => {
  it('analysis of its own peer\'s stream, redacted within the schema; none of another peer\'s', () => {
    const v = new PublisherView();
    const mine = body(v.filter(out('analysis', analysis('cam', 'alice')), peerIn));
    expect(analysisMessage.parse(mine)).toMatchObject({ faces: [{ identity: null, trackId: 't1' }], principal: { subjectId: null, name: null, status: 'present' } });
    expect(JSON.stringify(mine)).not.toMatch(/obama|similarity/i);
    expect(v.filter(out('analysis', analysis('other', 'bob')), peerIn)).toBeUndefined();
    expect(v.filter(out('metrics', { room: 'r', stream: 'other' }), peerIn)).toBeUndefined();
  });

  it('alerts of its streams (claimed by produce or upload) without identities; a stream taken over by another peer is no longer its own', () => {
    const v = new PublisherView();
    expect(v.filter(out('alert', alert('up')), peerIn)).toBeUndefined();
    v.claim('r', 'up');
    const got = body(v.filter(out('alert', alert('up')), peerIn));
    expect(alertEvent.parse(got)).toMatchObject({ message: 'Identity changed', from: { subjectId: null, name: null, trackId: 't1' }, to: { subjectId: null, name: null } });
    expect(JSON.stringify(got)).not.toMatch(/obama|similarity|faceRef/i);
    expect(v.filter(out('analysis', analysis('up', 'bob')), peerIn)).toBeUndefined();
    expect(v.filter(out('alert', alert('up')), peerIn)).toBeUndefined();
  });

  it('metrics of its streams keep the people in view (attendance) by track only (issue 16)', () => {
    const v = new PublisherView();
    v.claim('r', 'cam');
    const second: StreamMetricsEvent = {
      room: 'r',
      stream: 'cam',
      second: 1,
      frames: 3,
      facesMean: 1,
      principalPresent: 1,
      scores: { eyeContact: null, engagement: null, positivity: null, postureStability: null, confidence: null },
      expressions: {},
      latencyMs: null,
      people: [{ track: 't1', subjectId: 'obama', name: 'Barack Obama', frames: 3 }],
    };
    const got = body(v.filter(out('metrics', second), peerIn));
    expect(streamMetricsEvent.parse(got).people).toEqual([{ track: 't1', subjectId: null, name: null, frames: 3 }]);
    expect(JSON.stringify(got)).not.toMatch(/obama/i);
  });

  it('leaves rooms where the socket is not a publisher, and other message types, as they are', () => {
    const v = new PublisherView();
    const elsewhere = out('analysis', { ...analysis('cam', 'bob'), room: 'x' });
    expect(v.filter(elsewhere, peerIn)).toBe(elsewhere);
    const sfu = out('sfuevent', { room: 'r', type: 'room_closed' });
    expect(v.filter(sfu, peerIn)).toBe(sfu);
  });
});
