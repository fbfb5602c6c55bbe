import type { StreamInfo } from '@lookout/contracts';
import type { Grant } from '../src/ws/signaling.js';
import { OWNERSHIP_RECHECK_MS, SocketStreams, StreamOwners } from '../src/ws/stream-owners.js';

const info = (stream: string, source: StreamInfo['source'], peer?: string): StreamInfo => ({
  stream,
  source,
  ...(peer ? { peer } : {}),
  state: 'live',
  analysis: { state: 'live', sinceMs: 1, failures: 0 },
  framesPublished: 0,
});
const publisher = (peer: string, room = 'r1'): Grant => ({ room, role: 'publisher', peer });

describe('who may upload frames to a stream (gateway)', () => {
  /** The SFU's streams per room, as listStreams would answer; counts the questions. */
  const sfu = (streams: Record<string, StreamInfo[]>) => {
    const asked: string[] = [];
    const lookup = async (room: string) => {
      asked.push(room);
      return streams[room] ?? [];
    };
    return { asked, lookup };
  };

  it('refuses an ingest stream and another peer\'s WebRTC stream, naming the field; the producing peer may upload to its own', async () => {
    const { lookup } = sfu({ r1: [info('cam', 'ingest'), info('laptop', 'webrtc', 'alice')] });
    const owners = new StreamOwners(lookup);
    await expect(owners.mayUpload(publisher('mallory'), 'cam', 's1')).rejects.toMatchObject({ code: 'stream_not_owned', field: 'stream', message: expect.stringContaining('ingest') });
    await expect(owners.mayUpload(publisher('mallory'), 'laptop', 's1')).rejects.toMatchObject({ code: 'stream_not_owned', field: 'stream', message: expect.stringContaining('peer alice') });
    await expect(owners.mayUpload(publisher('alice'), 'laptop', 's2')).resolves.toBeUndefined();
    // The same stream name in another room is another stream.
    await expect(owners.mayUpload(publisher('mallory', 'r2'), 'cam', 's1')).resolves.toBeUndefined();
    // An admin may feed anything.
    await expect(owners.mayUpload({ room: 'r1', role: 'admin', peer: 'ops' }, 'cam', 's3')).resolves.toBeUndefined();
  });

  it('an upload-only stream belongs to the first peer that uploads to it until its last socket closes', async () => {
    const owners = new StreamOwners(sfu({}).lookup);
    await owners.mayUpload(publisher('alice'), 'webcam', 's1');
    await owners.mayUpload(publisher('alice'), 'webcam', 's2');
    await expect(owners.mayUpload(publisher('bob'), 'webcam', 's3')).rejects.toMatchObject({ code: 'stream_not_owned', message: expect.stringContaining('uploads of peer alice') });
    expect(() => owners.checkClaim(publisher('bob'), 'webcam')).toThrow(expect.objectContaining({ code: 'stream_not_owned' }));
    owners.release('s1');
    await expect(owners.mayUpload(publisher('bob'), 'webcam', 's3')).rejects.toMatchObject({ code: 'stream_not_owned' });
    owners.release('s2');
    expect(owners.size).toBe(0);
    await expect(owners.mayUpload(publisher('bob'), 'webcam', 's3')).resolves.toBeUndefined();
  });

  it('two peers racing for a new stream: one wins', async () => {
    const owners = new StreamOwners(sfu({}).lookup);
    const results = await Promise.allSettled([owners.mayUpload(publisher('alice'), 'webcam', 's1'), owners.mayUpload(publisher('bob'), 'webcam', 's2')]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
  });

  it('a socket asks the SFU once per stream per OWNERSHIP_RECHECK_MS, refusals included', async () => {
    let now = 1000;
    const { asked, lookup } = sfu({ r1: [info('cam', 'ingest')] });
    const socket = new SocketStreams(new StreamOwners(lookup), 's1', () => now);
    await Promise.all([socket.mayUpload(publisher('alice'), 'mine'), socket.mayUpload(publisher('alice'), 'mine')]);
    await expect(socket.mayUpload(publisher('alice'), 'cam')).rejects.toMatchObject({ code: 'stream_not_owned' });
    await expect(socket.mayUpload(publisher('alice'), 'cam')).rejects.toMatchObject({ code: 'stream_not_owned' });
    expect(asked).toEqual(['r1', 'r1']);
    now += OWNERSHIP_RECHECK_MS;
    await socket.mayUpload(publisher('alice'), 'mine');
    expect(asked).toEqual(['r1', 'r1', 'r1']);
    socket.release();
  });
});
