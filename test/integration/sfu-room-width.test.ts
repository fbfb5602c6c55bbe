import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { decodeFrameHeaders, subjects } from '@lookout/contracts';
import { FIXTURES, sfuOk, startNatsServer, startService, stopAllProcesses, type NatsServer } from '@lookout/testkit';

// A room's analysis config (KV lookout_room_config) sets its tap width, detection.maxFrameWidth
// (issue 16: tiled detection needs the camera's resolution, not MAX_FRAME_WIDTH). The fixture
// is 640×480, so the test lowers a room's width against a MAX_FRAME_WIDTH of 640 (raising it
// is the same setting, which this file cannot show without a larger video).

const VIDEO = 'video/two-people-sequential-640x480-15fps.webm';
const INSTANCE = 'sfu-width-test';

describe('SFU: a room config sets that room\'s tap width', () => {
  let nats: NatsServer;
  let nc: NatsConnection;

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url, name: 'sfu-width-test' });
    await startService('sfu', nats.url, { INSTANCE_ID: INSTANCE, MEDIASOUP_WORKERS: '1', INGEST_FILE_ROOT: FIXTURES, MAX_FRAME_WIDTH: '640' });
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    await stopAllProcesses();
    await nats?.stop();
  });

  const firstFrameSize = async (room: string): Promise<{ width: number; height: number }> => {
    await sfuOk(nc, INSTANCE, 'createRoom', { room, sampleFps: 5 });
    const sub = nc.subscribe(subjects.frames(room, 'cam'), { max: 1 });
    await sfuOk(nc, INSTANCE, 'ingest', { room, stream: 'cam', url: VIDEO, loop: true });
    for await (const m of sub) return decodeFrameHeaders((n) => m.headers?.get(n) || undefined);
    throw new Error('no frame');
  };

  it('taps a room with detection.maxFrameWidth at that width, others at MAX_FRAME_WIDTH', async () => {
    const kv = await new Kvm(nc).open('lookout_room_config');
    await kv.put('narrow', JSON.stringify({ detection: { mode: 'tiled', maxFrameWidth: 320 } }));
    // The SFU follows the bucket; give the watch a moment to deliver the put.
    await new Promise((r) => setTimeout(r, 300));
    expect(await firstFrameSize('narrow')).toMatchObject({ width: 320, height: 240 });
    expect(await firstFrameSize('plain')).toMatchObject({ width: 640, height: 480 });
  }, 60_000);
});
