import fs from 'node:fs';
import path from 'node:path';
import type http from 'node:http';
import sharp from 'sharp';
import { processRssBytes } from '@lookout/service-kit';
import { FIXTURES, TEST_ADMIN_KEY, TEST_GATEWAY_ENV, apiCall, rawPost, roomToken, startNatsServer, startService, stopAllProcesses, type NatsServer, type RunningService } from '@lookout/testkit';

type ErrorBody = { error: { code: string; message: string; field?: string } };

const rawRequest = (url: URL, headers: Record<string, string>, write: (req: http.ClientRequest, answered: () => boolean) => void) => rawPost<ErrorBody>(url, headers, write);

describe('gateway REST API (real nats-server, sfu, detector, reid, gateway)', () => {
  let nats: NatsServer;
  const services: RunningService[] = [];
  let base: string;

  beforeAll(async () => {
    nats = await startNatsServer();
    const env = { ...TEST_GATEWAY_ENV, CORS_ORIGINS: 'https://app.example', RATE_LIMIT_PER_MINUTE: '200', BODY_LIMIT_BYTES: '2048' };
    services.push(
      ...(await Promise.all([
        startService('sfu', nats.url, { MEDIASOUP_WORKERS: '1', INGEST_FILE_ROOT: FIXTURES }),
        startService('detector', nats.url),
        startService('reid', nats.url),
        startService('gateway', nats.url, env),
      ])),
    );
    base = `http://127.0.0.1:${services[3]!.httpPort}`;
  }, 120_000);

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await stopAllProcesses();
    await nats?.stop();
  });

  it('refuses missing, malformed, expired and wrong-room credentials', async () => {
    const none = await apiCall<ErrorBody>(base, 'GET', '/rooms/r1', { auth: null });
    expect(none).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    expect((await apiCall<ErrorBody>(base, 'GET', '/rooms/r1', { auth: 'not-a-key' })).body.error.code).toBe('unauthorized');
    expect((await apiCall<ErrorBody>(base, 'GET', '/rooms/r1', { auth: 'a.b.c' })).body.error.code).toBe('invalid_token');
    expect((await apiCall<ErrorBody>(base, 'GET', '/rooms/r1', { auth: roomToken('r1', 'viewer', { expiresInS: -5 }) })).body.error.code).toBe('token_expired');
    expect((await apiCall<ErrorBody>(base, 'GET', '/rooms/r1', { auth: roomToken('r1', 'viewer', { secret: 'another-secret-0123456789' }) })).body.error.code).toBe('invalid_token');
    const wrongRoom = await apiCall<ErrorBody>(base, 'GET', '/rooms/r1', { auth: roomToken('r2', 'viewer') });
    expect(wrongRoom).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    const notAdmin = await apiCall<ErrorBody>(base, 'POST', '/rooms', { auth: roomToken('r1', 'publisher'), json: { room: 'r1' } });
    expect(notAdmin.status).toBe(403);
  });

  it('issues room tokens that open their own room only', async () => {
    const issued = await apiCall<{ token: string; role: string; expiresMs: number }>(base, 'POST', '/tokens', { json: { room: 'tok', role: 'viewer', ttlSeconds: 60 } });
    expect(issued.status).toBe(201);
    expect(issued.body.expiresMs).toBeGreaterThan(Date.now());
    const created = await apiCall(base, 'POST', '/rooms', { json: { room: 'tok' } });
    expect(created.status).toBe(201);
    expect((await apiCall(base, 'GET', '/rooms/tok', { auth: issued.body.token })).status).toBe(200);
    expect((await apiCall(base, 'GET', '/rooms/other', { auth: issued.body.token })).status).toBe(403);
    expect((await apiCall<ErrorBody>(base, 'POST', '/tokens', { json: { room: 'tok', role: 'boss' } })).body.error).toMatchObject({ code: 'invalid_request', field: 'role' });
  });

  it('creates, configures, lists and closes rooms on the SFU; ingest goes to the room\'s SFU', async () => {
    const created = await apiCall<{ room: string; instance: string; streams: unknown[] }>(base, 'POST', '/rooms', { json: { room: 'hall', sampleFps: 2, config: { analyzers: { expression: { enabled: false } } } } });
    expect(created).toMatchObject({ status: 201, body: { room: 'hall', sampleFps: 2, streams: [] } });
    expect((await apiCall<ErrorBody>(base, 'POST', '/rooms', { json: { room: 'hall' } })).status).toBe(409);
    expect((await apiCall<{ rooms: Array<{ room: string }> }>(base, 'GET', '/rooms')).body.rooms.map((r) => r.room)).toContain('hall');

    const config = { analyzers: { text: { enabled: false } }, rules: { no_face: { frames: 5 } } };
    expect((await apiCall(base, 'PUT', '/rooms/hall/config', { json: config })).status).toBe(200);
    expect((await apiCall(base, 'GET', '/rooms/hall/config')).body).toEqual(config);
    const badRule = await apiCall<ErrorBody>(base, 'PUT', '/rooms/hall/config', { json: { rules: { no_face: { frames: 0 } } } });
    expect(badRule).toMatchObject({ status: 400, body: { error: { field: 'rules/no_face/frames' } } });

    const ingest = await apiCall<{ stream: string }>(base, 'POST', '/rooms/hall/ingest', { json: { stream: 'door', url: 'video/two-people-sequential-640x480-15fps.webm', loop: true } });
    expect(ingest).toMatchObject({ status: 201, body: { stream: 'door' } });
    expect((await apiCall<ErrorBody>(base, 'POST', '/rooms/hall/ingest', { json: { stream: 'x', url: '../../etc/passwd' } })).status).toBe(400);
    // The ingest answers once its video flows (media live); its analysis has its own state.
    const door = (await apiCall<{ streams: Array<{ stream: string }> }>(base, 'GET', '/rooms/hall')).body.streams.find((s) => s.stream === 'door');
    expect(door).toMatchObject({ source: 'ingest', state: 'live', analysis: { state: expect.stringMatching(/^(starting|live)$/), failures: 0 } });
    expect((await apiCall(base, 'PUT', '/rooms/hall/sample-rate', { json: { fps: 3 } })).status).toBe(200);
    expect((await apiCall<{ sampleFps: number }>(base, 'GET', '/rooms/hall')).body.sampleFps).toBe(3);
    expect((await apiCall(base, 'DELETE', '/rooms/hall/ingest/door')).status).toBe(200);
    expect((await apiCall(base, 'DELETE', '/rooms/hall')).status).toBe(200);
    expect((await apiCall(base, 'GET', '/rooms/hall')).status).toBe(404);
  }, 60_000);

  it('analyses one posted image', async () => {
    const jpeg = fs.readFileSync(path.join(FIXTURES, 'faces/group/fa_bbt4.jpg'));
    const r = await apiCall<{ faces: unknown[]; width: number }>(base, 'POST', '/analyze', { body: jpeg, headers: { 'content-type': 'image/jpeg' } });
    expect(r.status).toBe(200);
    expect(r.body.faces).toHaveLength(6);
    expect((await apiCall<ErrorBody>(base, 'POST', '/analyze', { json: { image: 'x' } })).body.error.code).toBe('unsupported_media_type');
  }, 60_000);

  it('issue 17: /analyze identifies against the gallery, so room tokens get 403, for their own room or any other', async () => {
    const jpeg = fs.readFileSync(path.join(FIXTURES, 'faces/group/fa_bbt4.jpg'));
    const image = { body: jpeg, headers: { 'content-type': 'image/jpeg' } };
    // Before: a 60-second viewer token for a room that does not exist got names from the gallery.
    for (const [token, query] of [[roomToken('unrelated', 'viewer', { expiresInS: 60 }), '?room=unrelated'], [roomToken('r1', 'viewer'), ''], [roomToken('r1', 'publisher'), '?room=r1']] as const) {
      const r = await apiCall<ErrorBody>(base, 'POST', `/analyze${query}`, { ...image, auth: token });
      expect(r).toMatchObject({ status: 403, body: { error: { code: 'forbidden', message: expect.stringMatching(/admin/) } } });
      expect(r.text).not.toMatch(/subjectId|faces/);
    }
    expect((await apiCall(base, 'POST', '/analyze', { ...image, auth: null })).status).toBe(401);
  }, 60_000);

  it('issue 17: /analyze refuses a body the pipeline cannot carry with 413 at once, without the gateway keeping it', async () => {
    const pid = services[3]!.child.pid!;
    const rssMiB = async () => (await processRssBytes(pid))! / 2 ** 20;
    const url = new URL(`${base}/api/v1/analyze`);
    const headers = { authorization: `Bearer ${TEST_ADMIN_KEY}`, 'content-type': 'image/jpeg' };
    // Warm the route first, so what is measured is the refused bodies, not the first request.
    await apiCall(base, 'POST', '/analyze', { body: Buffer.alloc(100), headers: { 'content-type': 'image/jpeg' } });
    const before = await rssMiB();
    const t0 = Date.now();
    // Declared too large: answered before the client sends a byte of the body.
    const declared = await rawRequest(url, { ...headers, 'content-length': String(150 * 2 ** 20) }, (req) => req.flushHeaders());
    expect(declared).toMatchObject({ status: 413, body: { error: { code: 'body_too_large', message: expect.stringMatching(/limit of \d+ bytes/) } } });
    const limit = Number(/limit of (\d+) bytes/.exec(declared.body.error.message)![1]);
    // What one identify request carries through NATS (4 MB max payload in deploy/nats.conf), base64: about 3 MiB.
    expect(limit).toBeGreaterThan(2 * 2 ** 20);
    expect(limit).toBeLessThan(4 * 2 ** 20);
    // Chunked, no length: refused once it passes the limit, while the client is still sending.
    let sent = 0;
    const chunked = await rawRequest(url, headers, (req, answered) => {
      const chunk = Buffer.alloc(256 * 1024, 0xff);
      const pump = () => {
        while (!answered() && sent < 12 * 2 ** 20) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        if (!req.destroyed) req.end();
      };
      pump();
    });
    expect(chunked).toMatchObject({ status: 413, body: { error: { code: 'body_too_large' } } });
    expect(sent).toBeLessThan(12 * 2 ** 20);
    // An ordinary client sending a whole 12 MiB body reads the 413 too (no reset connection);
    // four of them, so that memory kept per body would add up where garbage does not.
    for (let i = 0; i < 4; i++) {
      const whole = await apiCall<ErrorBody>(base, 'POST', '/analyze', { body: Buffer.alloc(12 * 2 ** 20, 0xff), headers: { 'content-type': 'image/jpeg' } });
      expect(whole).toMatchObject({ status: 413, body: { error: { code: 'body_too_large' } } });
    }
    const elapsed = Date.now() - t0;
    const after = await rssMiB();
    console.log(`refused 150 MiB declared, ${(sent / 2 ** 20).toFixed(1)} MiB chunked, 4 × 12 MiB whole in ${elapsed} ms; limit ${limit} bytes; gateway RSS ${before.toFixed(1)} → ${after.toFixed(1)} MiB`);
    // Before: each body was buffered and base64-encoded (one 150 MB body took RSS from 121 to
    // 1116 MiB; one of these 12 MiB bodies alone would add more than 28). Now the gateway
    // reads ~128 KiB of a refused body (the chunked one: up to the limit, then drops it).
    expect(after - before).toBeLessThan(8);
    // A body of exactly the limit does reach reid (whose verdict on these bytes is bad_image): the limit fits NATS.
    const atLimit = await apiCall<ErrorBody>(base, 'POST', '/analyze', { body: Buffer.alloc(limit, 0xff), headers: { 'content-type': 'image/jpeg' } });
    expect(atLimit).toMatchObject({ status: 422, body: { error: { code: 'bad_image' } } });
  }, 60_000);

  it('issue 17: a truncated or oversized image is the client\'s fault (4xx with the detector\'s code), not a bad gateway', async () => {
    const jpeg = fs.readFileSync(path.join(FIXTURES, 'faces/group/fa_bbt4.jpg'));
    const post = (body: Uint8Array) => apiCall<ErrorBody>(base, 'POST', '/analyze', { body: new Uint8Array(body), headers: { 'content-type': 'image/jpeg' } });
    const truncated = await post(jpeg.subarray(0, Math.floor(jpeg.length / 2)));
    expect(truncated).toMatchObject({ status: 422, body: { error: { code: 'corrupt', field: 'image' } } });
    const headerOnly = await post(jpeg.subarray(0, 200));
    expect(headerOnly.status).toBeGreaterThanOrEqual(400);
    expect(headerOnly.status).toBeLessThan(500);
    // Bigger than the detector's frame limits (4096 px a side), small in bytes.
    const wide = await sharp({ create: { width: 5000, height: 64, channels: 3, background: '#808080' } }).jpeg().toBuffer();
    expect(await post(wide)).toMatchObject({ status: 422, body: { error: { code: 'bad_dimensions', field: 'image' } } });
  }, 60_000);

  it('answers malformed JSON, wrong types, oversized bodies and unknown routes with the documented errors, and keeps serving', async () => {
    expect(await apiCall<ErrorBody>(base, 'POST', '/rooms', { json: '{"room":' })).toMatchObject({ status: 400, body: { error: { code: 'invalid_json' } } });
    expect(await apiCall<ErrorBody>(base, 'POST', '/rooms', { json: { room: 42 } })).toMatchObject({ status: 400, body: { error: { code: 'invalid_request', field: 'room' } } });
    expect(await apiCall<ErrorBody>(base, 'POST', '/rooms', { json: { room: 'ok', extra: true } })).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    const big = await apiCall<ErrorBody>(base, 'POST', '/rooms', { json: { room: 'big', pad: 'x'.repeat(5000) } });
    expect(big).toMatchObject({ status: 413, body: { error: { code: 'body_too_large' } } });
    expect(big.body.error.message).toMatch(/2048 bytes/);
    expect(await apiCall<ErrorBody>(base, 'GET', '/nope')).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect(await apiCall<ErrorBody>(base, 'GET', '/nope', { auth: null })).toMatchObject({ status: 404 });
    expect(await apiCall<ErrorBody>(base, 'GET', '/rooms/a.b')).toMatchObject({ status: 400, body: { error: { field: 'room' } } });
    expect((await apiCall(base, 'GET', '/rooms')).status).toBe(200);
  });

  it('serves an OpenAPI document and a docs page generated from the same route declarations', async () => {
    const doc = await apiCall<{ openapi: string; paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>> }>(base, 'GET', '/openapi.json', { auth: null });
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/api/v1/rooms', '/api/v1/rooms/{room}', '/api/v1/rooms/{room}/config', '/api/v1/tokens', '/api/v1/analyze']));
    expect(doc.body.paths['/api/v1/rooms']!.post!.requestBody).toBeDefined();
    expect(doc.body.paths['/api/v1/rooms']!.post!.responses['413']).toBeDefined();
    const page = await apiCall(base, 'GET', '/docs', { auth: null });
    expect(page.status).toBe(200);
    expect(page.text).toContain('/api/v1/rooms/{room}/config');
  });

  it('applies the CORS allow-list and the per-credential rate limit', async () => {
    const allowed = await apiCall(base, 'OPTIONS', '/rooms', { auth: null, headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const refused = await apiCall(base, 'OPTIONS', '/rooms', { auth: null, headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(refused.status).toBe(403);
    const plain = await apiCall(base, 'GET', '/rooms', { headers: { origin: 'https://evil.example' } });
    expect(plain.headers.get('access-control-allow-origin')).toBeNull();

    const token = roomToken('limited', 'viewer', { peer: 'hammer' });
    // The bucket refills continuously: a request sent after the burst may find a new token on
    // a slow machine, so the refusal checked is the first one of the burst itself.
    let limited: Awaited<ReturnType<typeof apiCall<ErrorBody>>> | undefined;
    for (let i = 0; i < 210 && !limited; i++) {
      const r = await apiCall<ErrorBody>(base, 'GET', '/rooms/limited/config', { auth: token });
      if (r.status !== 200) limited = r;
    }
    expect(limited).toMatchObject({ status: 429, body: { error: { code: 'rate_limited' } } });
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another credential is not affected.
    expect((await apiCall(base, 'GET', '/rooms/limited/config', { auth: roomToken('limited', 'viewer', { peer: 'calm' }) })).status).toBe(200);
  }, 60_000);
});
