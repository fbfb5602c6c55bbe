import { Registry, Counter } from 'prom-client';
import { closeHttp, createHealthHandler, listenHttp, localUrlHost, sendJson, urlHost } from '@lookout/service-kit';

describe('health endpoints', () => {
  it('serves healthz, readyz (with failing checks named) and metrics', async () => {
    const registry = new Registry();
    new Counter({ name: 'test_total', help: 'x', registers: [registry] }).inc(3);
    let natsUp = true;
    let accepting = true;
    const handler = createHealthHandler({ registry, checks: new Map([['nats', () => natsUp], ['throws', () => true]]), accepting: () => accepting });
    const { server, port } = await listenHttp((req, res) => void (handler(req, res) || sendJson(res, 404, {})), 0, '127.0.0.1');
    const get = async (p: string) => {
      const r = await fetch(`http://127.0.0.1:${port}${p}`);
      return { status: r.status, text: await r.text() };
    };
    try {
      expect((await get('/healthz')).status).toBe(200);
      expect((await get('/readyz')).status).toBe(200);
      expect((await get('/metrics')).text).toContain('test_total 3');
      natsUp = false;
      const notReady = await get('/readyz');
      expect(notReady.status).toBe(503);
      expect(JSON.parse(notReady.text).failing).toEqual(['nats']);
      accepting = false;
      natsUp = true;
      expect(JSON.parse((await get('/readyz')).text).failing).toEqual(['shutting_down']);
      expect((await get('/healthz')).status).toBe(200);
      expect((await get('/nope')).status).toBe(404);
    } finally {
      await closeHttp(server);
    }
  });
});

describe('hosts in URLs', () => {
  it('brackets IPv6 literals and turns wildcard binds into loopback destinations', () => {
    expect(urlHost('127.0.0.1')).toBe('127.0.0.1');
    expect(urlHost('::1')).toBe('[::1]');
    expect(urlHost('[::1]')).toBe('[::1]');
    expect(urlHost('gateway.example')).toBe('gateway.example');
    expect(localUrlHost('0.0.0.0')).toBe('127.0.0.1');
    expect(localUrlHost('::')).toBe('[::1]');
    expect(localUrlHost('fd00::5')).toBe('[fd00::5]');
    expect(localUrlHost('10.1.2.3')).toBe('10.1.2.3');
  });
});
