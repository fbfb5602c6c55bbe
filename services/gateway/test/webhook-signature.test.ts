import { createHmac } from 'node:crypto';
import dns from 'node:dns';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DestinationError, DestinationPolicy } from '../src/webhooks/destination.js';
import { matches, readEvent, eventBody } from '../src/webhooks/event.js';
import { backoffDelay } from '@lookout/service-kit';
import { embeddedV4, inCidr, parseCidr, parseIp, specialRange } from '../src/webhooks/ip.js';
import { WebhookSender } from '../src/webhooks/sender.js';
import { signedHeaders, signPayload, verifySignature } from '../src/webhooks/signature.js';
import { consumerConfig } from '../src/webhooks/store.js';

describe('webhook signature', () => {
  const secret = 'a-webhook-secret-0123';
  const body = '{"id":"alert:e1:open","type":"alert"}';

  it('is sha256=hex(HMAC-SHA256(secret, timestamp + "." + body))', () => {
    const expected = createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex');
    expect(signPayload(secret, '1700000000', body)).toBe(`sha256=${expected}`);
    expect(signPayload(secret, '1700000000', Buffer.from(body))).toBe(`sha256=${expected}`);
  });

  it('headers carry the stable event id, the timestamp in seconds and the signature', () => {
    const h = signedHeaders(secret, 'alert:e1:open', body, 1_700_000_000_999);
    expect(h['X-Lookout-Event-Id']).toBe('alert:e1:open');
    expect(h['X-Lookout-Timestamp']).toBe('1700000000');
    expect(verifySignature(secret, h['X-Lookout-Timestamp']!, body, h['X-Lookout-Signature']!, { nowMs: 1_700_000_010_000 })).toBe(true);
  });

  it('verification fails for another secret, a changed body, a changed timestamp or an old timestamp', () => {
    const sig = signPayload(secret, '1700000000', body);
    const at = { nowMs: 1_700_000_000_000 };
    expect(verifySignature('another-secret-01234', '1700000000', body, sig, at)).toBe(false);
    expect(verifySignature(secret, '1700000000', `${body} `, sig, at)).toBe(false);
    expect(verifySignature(secret, '1700000001', body, sig, at)).toBe(false);
    expect(verifySignature(secret, '1700000000', body, sig, { nowMs: 1_700_000_000_000 + 301_000 })).toBe(false);
    expect(verifySignature(secret, 'x', body, sig, at)).toBe(false);
    expect(verifySignature(secret, '1700000000', body, 'sha256=00', at)).toBe(false);
  });
});

describe('IP parsing (ipaddr.js behind a strict literal check)', () => {
  const text = (raw: string) => parseIp(raw)?.toString();

  it('parses IPv4, IPv6 (compressed, bracketed, zoned, dotted tail) and nothing else', () => {
    expect(text('10.1.2.3')).toBe('10.1.2.3');
    expect(parseIp('10.1.2.3')?.kind()).toBe('ipv4');
    expect(text('::1')).toBe('::1');
    expect(text('[::1]')).toBe('::1');
    expect(text('fe80::1%eth0')).toBe('fe80::1');
    expect(parseIp('::ffff:127.0.0.1')?.toNormalizedString()).toBe('0:0:0:0:0:ffff:7f00:1');
    expect(text('2001:db8:0:0:0:0:0:1')).toBe(text('2001:db8::1'));
    expect(parseIp('example.com')).toBeUndefined();
    expect(parseIp('1.2.3.256')).toBeUndefined();
    // Spellings ipaddr.js alone would take; only what WHATWG URL normalised them to is an address.
    for (const loose of ['0x7f.1', '127.1', '0177.0.0.1', '2130706433', '1.2.3.4.5', '::1::', '']) expect(parseIp(loose)).toBeUndefined();
  });

  it('parses CIDRs and matches addresses in them, never across families', () => {
    expect(parseCidr('10.0.0.0/33')).toBeUndefined();
    expect(parseCidr('10.0.0.0/8/1')).toBeUndefined();
    expect(parseCidr('10.0.0.0/x')).toBeUndefined();
    expect(parseCidr('::/129')).toBeUndefined();
    expect(parseCidr('10.0.0.1')?.[1]).toBe(32);
    expect(parseCidr('::1')?.[1]).toBe(128);
    expect(inCidr(parseIp('10.200.0.1')!, parseCidr('10.0.0.0/8')!)).toBe(true);
    expect(inCidr(parseIp('11.0.0.1')!, parseCidr('10.0.0.0/8')!)).toBe(false);
    expect(inCidr(parseIp('fd12::5')!, parseCidr('fc00::/7')!)).toBe(true);
    expect(inCidr(parseIp('10.0.0.1')!, parseCidr('::/0')!)).toBe(false);
    expect(inCidr(parseIp('::ffff:10.0.0.1')!, parseCidr('10.0.0.0/8')!)).toBe(false);
    expect(inCidr(parseIp('1.2.3.4')!, parseCidr('0.0.0.0/0')!)).toBe(true);
  });

  it('finds the IPv4 address inside mapped, NAT64 and 6to4 IPv6 addresses', () => {
    expect(embeddedV4(parseIp('::ffff:127.0.0.1')!)?.toString()).toBe('127.0.0.1');
    expect(embeddedV4(parseIp('::ffff:a00:1')!)?.toString()).toBe('10.0.0.1');
    expect(embeddedV4(parseIp('64:ff9b::a9fe:a9fe')!)?.toString()).toBe('169.254.169.254');
    expect(embeddedV4(parseIp('2002:c0a8:0101::1')!)?.toString()).toBe('192.168.1.1');
    expect(embeddedV4(parseIp('2606:4700::1')!)).toBeUndefined();
    expect(embeddedV4(parseIp('10.0.0.1')!)).toBeUndefined();
  });

  it('names special-purpose ranges (the second opinion after the table)', () => {
    expect(specialRange(parseIp('8.8.8.8')!)).toBeUndefined();
    expect(specialRange(parseIp('2606:4700:4700::1111')!)).toBeUndefined();
    expect(specialRange(parseIp('127.0.0.1')!)).toBe('loopback');
    expect(specialRange(parseIp('fd00::1')!)).toBe('uniqueLocal');
  });
});

describe('webhook destinations', () => {
  const strict = new DestinationPolicy('');

  it.each([
    ['127.0.0.1', 'loopback'],
    ['10.0.0.5', 'private'],
    ['172.20.1.1', 'private'],
    ['192.168.1.10', 'private'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'CGNAT'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fd00::1', 'unique local'],
    ['fc00::1', 'unique local'],
    ['fe80::1', 'link-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['2002:c0a8:0101::1', 'private'],
  ])('refuses %s (%s)', (address, reason) => {
    expect(strict.refusal(address)).toContain(reason);
  });

  it.each([
    ['192.31.196.1', 'as112'],
    ['192.52.193.1', 'amt'],
    ['192.88.99.1', 'reserved'],
    ['2001:20::1', 'orchid2'],
    ['::ffff:192.31.196.1', 'as112'],
  ])('refuses %s, a special-purpose range only ipaddr.js knows (%s)', (address, range) => {
    expect(strict.refusal(address)).toBe(`${address} is a special-purpose address (${range})`);
  });

  it.each(['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '172.32.0.1', '100.128.0.1'])('allows the public address %s', (address) => {
    expect(strict.refusal(address)).toBeUndefined();
  });

  it('allow-list: single IPs, CIDRs (IPv4 and IPv6) and host names', () => {
    const p = new DestinationPolicy(' 127.0.0.1 , 10.1.0.0/16, fd00:abcd::/32, hooks.internal ');
    expect(p.refusal('127.0.0.1')).toBeUndefined();
    expect(p.refusal('::ffff:127.0.0.1')).toBeUndefined();
    expect(p.refusal('127.0.0.2')).toContain('loopback');
    expect(p.refusal('10.1.255.3')).toBeUndefined();
    expect(p.refusal('10.2.0.1')).toContain('private');
    expect(p.refusal('fd00:abcd::9')).toBeUndefined();
    expect(p.refusal('fd00:abce::9')).toContain('unique local');
    expect(p.refusal('::1')).toContain('loopback');
    expect(p.refusal('10.9.9.9', 'HOOKS.internal.')).toBeUndefined();
  });

  it('refuses an unparsable allow-list entry', () => {
    expect(() => new DestinationPolicy('10.0.0.0/99')).toThrow(/WEBHOOK_ALLOW_HOSTS/);
    expect(() => new DestinationPolicy('http://x')).toThrow(/WEBHOOK_ALLOW_HOSTS/);
  });

  it('checks URLs: scheme, IP literals (v4 and v6) and what a name resolves to', async () => {
    await expect(strict.checkUrl('ftp://8.8.8.8/')).rejects.toThrow(/http and https/);
    await expect(strict.checkUrl('http://127.0.0.1:8080/hook')).rejects.toMatchObject({ code: 'destination_not_allowed' });
    await expect(strict.checkUrl('http://[::1]:8080/hook')).rejects.toThrow(/loopback/);
    await expect(strict.checkUrl('http://[::ffff:a00:1]/')).rejects.toThrow(/private/);
    // WHATWG URL normalises these spellings of 127.0.0.1 before the check sees them.
    await expect(strict.checkUrl('http://2130706433/')).rejects.toThrow(/loopback/);
    await expect(strict.checkUrl('http://0x7f.1/')).rejects.toThrow(/loopback/);
    await expect(strict.checkUrl('http://localhost:9/')).rejects.toBeInstanceOf(DestinationError);
    await expect(strict.checkUrl('https://8.8.8.8/hook')).resolves.toBeInstanceOf(URL);
    await expect(strict.checkUrl('http://no-such-host.invalid/')).rejects.toMatchObject({ code: 'destination_unresolved' });
    await expect(new DestinationPolicy('127.0.0.1').checkUrl('http://127.0.0.1:1/')).resolves.toBeInstanceOf(URL);
  });

  it('the connect-time lookup refuses a name that resolves to a denied address', async () => {
    const looked = (p: DestinationPolicy, all: boolean) =>
      new Promise<{ err: NodeJS.ErrnoException | null; address: unknown }>((resolve) => p.lookup('localhost', { all }, (err, address) => resolve({ err, address })));
    const refused = await looked(strict, false);
    expect(refused.err?.message).toMatch(/destination not allowed: .*loopback/);
    const allowed = await looked(new DestinationPolicy('127.0.0.1,::1'), true);
    expect(allowed.err).toBeNull();
    expect(Array.isArray(allowed.address)).toBe(true);
  });
});

describe('webhook events and consumers', () => {
  const alert = { id: 'e1', kind: 'no_face', severity: 'warning', state: 'open', room: 'r1', stream: 's1', startMs: 1, startSeq: 1, message: 'no face' };
  const msg = (subject: string, data: unknown, msgId?: string) => ({
    subject,
    seq: 42,
    data: new TextEncoder().encode(JSON.stringify(data)),
    headers: { get: (k: string) => (k === 'Nats-Msg-Id' && msgId ? msgId : '') } as never,
  });

  it('ids events by Nats-Msg-Id, else by stream sequence', () => {
    expect(readEvent(msg('alerts.r1.s1', alert, 'alert:e1:open'))).toMatchObject({ id: 'alert:e1:open', type: 'alert', room: 'r1' });
    expect(readEvent(msg('alerts.r1.s1', alert)).id).toBe('LOOKOUT_EVENTS:42');
    expect(JSON.parse(eventBody(readEvent(msg('alerts.r1.s1', alert, 'x'))))).toEqual({ id: 'x', type: 'alert', subject: 'alerts.r1.s1', data: alert });
    expect(() => readEvent(msg('alerts.r1.s1', { ...alert, kind: 'nope' }))).toThrow(/kind/);
    expect(() => readEvent(msg('other.r1.s1', alert))).toThrow(/subject/);
  });

  it('filters by event type, room and alert kind', () => {
    const e = readEvent(msg('alerts.r1.s1', alert, 'a'));
    expect(matches({ events: ['alert'] }, e)).toBe(true);
    expect(matches({ events: ['metrics'] }, e)).toBe(false);
    expect(matches({ events: ['alert'], rooms: ['r2'] }, e)).toBe(false);
    expect(matches({ events: ['alert'], alertKinds: ['looking_away'] }, e)).toBe(false);
    expect(matches({ events: ['alert', 'metrics'], rooms: ['r1'], alertKinds: ['no_face'] }, e)).toBe(true);
  });

  it('lets the server filter when one event type (and at most one room) is asked for', () => {
    expect(consumerConfig({ id: 'h', events: ['alert'] }, 30_000).filter_subject).toBe('alerts.>');
    expect(consumerConfig({ id: 'h', events: ['metrics'], rooms: ['r1'] }, 30_000).filter_subject).toBe('metrics.r1.*');
    expect(consumerConfig({ id: 'h', events: ['alert', 'recognition'] }, 30_000).filter_subject).toBeUndefined();
    expect(consumerConfig({ id: 'h', events: ['alert'], rooms: ['a', 'b'] }, 30_000)).toMatchObject({ durable_name: 'webhook_h', deliver_policy: 'new', ack_policy: 'explicit', filter_subject: 'alerts.>' });
  });

  it('backs off exponentially, capped', () => {
    expect([1, 2, 3, 4, 10].map((a) => backoffDelay(a, 1000, 60_000))).toEqual([1000, 2000, 4000, 8000, 60_000]);
    expect(backoffDelay(100, 1000, 300_000)).toBe(300_000);
  });
});

describe('webhook sender (a local HTTP server)', () => {
  let server: http.Server;
  let port: number;
  /** The loopback address 'localhost' resolves to first here (::1 on many machines), as a URL host. */
  let host: string;
  const seen: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];
  const never = new AbortController().signal;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ headers: req.headers, body });
        res.writeHead(req.url === '/fail' ? 500 : req.url === '/moved' ? 302 : 200, req.url === '/moved' ? { location: 'http://10.0.0.1/' } : {}).end('ignored');
      });
    });
    // Listen where the name the tests use leads, not on 127.0.0.1 by habit.
    const { address } = await dns.promises.lookup('localhost');
    await new Promise<void>((resolve) => server.listen(0, address, resolve));
    port = (server.address() as AddressInfo).port;
    host = address.includes(':') ? `[${address}]` : address;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('re-checks the destination at delivery time: IP literals and names resolved at connect', async () => {
    const strict = new WebhookSender(new DestinationPolicy(''), 2000);
    const before = seen.length;
    expect(await strict.post(`http://${host}:${port}/`, '{}', {}, never)).toMatchObject({ ok: false, error: expect.stringMatching(/not allowed.*loopback/) });
    expect(await strict.post(`http://localhost:${port}/`, '{}', {}, never)).toMatchObject({ ok: false, error: expect.stringMatching(/not allowed/) });
    expect(seen.length).toBe(before);
    strict.close();
  });

  it('posts the body with the given headers; 2xx is success, 3xx (not followed) and 5xx are failures', async () => {
    const sender = new WebhookSender(new DestinationPolicy('127.0.0.1, ::1'), 2000);
    const ok = await sender.post(`http://localhost:${port}/hook`, '{"a":1}', { 'X-Lookout-Event-Id': 'e1' }, never);
    expect(ok).toMatchObject({ ok: true, status: 200 });
    expect(seen.at(-1)).toMatchObject({ body: '{"a":1}', headers: { 'x-lookout-event-id': 'e1', 'content-type': 'application/json' } });
    expect(await sender.post(`http://${host}:${port}/fail`, '{}', {}, never)).toMatchObject({ ok: false, status: 500 });
    expect(await sender.post(`http://${host}:${port}/moved`, '{}', {}, never)).toMatchObject({ ok: false, status: 302 });
    expect((await sender.post(`http://127.0.0.1:1/`, '{}', {}, never)).error).toMatch(/ECONNREFUSED/);
    sender.close();
  });
});
