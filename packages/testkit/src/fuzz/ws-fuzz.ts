import fc from 'fast-check';
import type { ValidationError} from '@lookout/contracts';
import { clientMessage, WS_CLOSE, type ServerMessage } from '@lookout/contracts';
import { isError, TestWsClient } from '../ws-client.js';
import { hostileBytes, hostilePayload, type Payload } from './hostile.js';
import { jpegBodies, parsed, ROOM } from './consumers.js';

/** The gateway's WS_MAX_MESSAGE_BYTES in the fuzz run: bigger messages are closed with 1009. */
export const WS_MAX_MESSAGE_BYTES = 262_144;

type Role = 'admin' | 'publisher' | 'viewer';
const ROLES: readonly Role[] = ['admin', 'publisher', 'viewer'];
const TYPES = ['join', 'subscribe', 'unsubscribe', 'signal', 'frame', 'ping', 'binary'] as const;
type MsgType = (typeof TYPES)[number];

/** Codes after which the gateway closes the socket, and with what (docs/contracts.md, ws/errors.ts). */
const CLOSES: Record<string, number> = { unauthorized: WS_CLOSE.unauthorized, invalid_token: WS_CLOSE.unauthorized, token_expired: WS_CLOSE.unauthorized, forbidden: WS_CLOSE.forbidden };

export interface WsSummary {
  cases: Record<MsgType, Record<Role, number>>;
  invalid: number;
  errors: Record<string, number>;
  errorsCounted: Record<string, number>;
  invalidCounted: number;
  closes: Record<string, number>;
  reconnects: number;
  /** Valid messages that got no reply (an open finding; listed, not failed). */
  unanswered: string[];
  /** Replies that came after their case had given up on them, during a later case ("<id> <code>"). */
  late: string[];
}

export interface WsFuzzOptions {
  url: string;
  cases: number;
  seed: number;
  jpeg: Uint8Array;
  tokens: Record<Role, string>;
  metrics: () => Promise<string>;
}

interface WsCase {
  type: MsgType;
  role: Role;
  text?: Payload;
  binary?: Uint8Array;
  how: string;
}

/** A reply may wait for the SFU (its 20 s timeout, then the gateway places the room again and retries). */
const REPLY_WAIT_MS = 60_000;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function metricSum(text: string, name: string, labels: Record<string, string> = {}): Record<string, number> | number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.split(' ').pop());
  }
  return sum;
}

function byLabel(text: string, name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  const re = new RegExp(`^${name}\\{.*${label}="([^"]*)".*\\} (\\S+)$`);
  for (const line of text.split('\n')) {
    const m = re.exec(line);
    if (m) out[m[1]!] = (out[m[1]!] ?? 0) + Number(m[2]);
  }
  return out;
}

/** A valid message of each type for a role, the template every mutation starts from. */
function templates(role: Role, token: string): Record<Exclude<MsgType, 'binary'>, Record<string, unknown>> {
  return {
    join: { type: 'join', room: ROOM, token, id: 'c', ...(role === 'admin' ? { peer: 'fuzz-admin' } : {}) },
    subscribe: { type: 'subscribe', room: ROOM, feeds: role === 'publisher' ? ['analysis', 'alerts'] : ['analysis', 'preview'], id: 'c' },
    unsubscribe: { type: 'unsubscribe', room: ROOM, feeds: ['metrics'], id: 'c' },
    signal: { type: 'signal', id: 'c', op: 'getRoom', room: ROOM, data: { room: ROOM } },
    frame: { type: 'frame', stream: `up-${role}`, seq: 1, captureMs: Date.now(), width: 160, height: 160, room: ROOM, id: 'c' },
    ping: { type: 'ping', id: 'c' },
  };
}

function cases(o: WsFuzzOptions): WsCase[] {
  const out: WsCase[] = [];
  const ops = ['getRouterRtpCapabilities', 'createWebRtcTransport', 'connectTransport', 'restartIce', 'closeTransport', 'produce', 'closeProducer', 'consume', 'resumeConsumer', 'setSampleRate', 'listStreams', 'getRoom', 'stopIngest', 'ingest', 'closeRoom', 'createRoom'];
  TYPES.forEach((type, ti) => {
    const per = Math.ceil(o.cases / ROLES.length);
    ROLES.forEach((role, ri) => {
      const seed = o.seed + 1000 + ti * 10 + ri;
      if (type === 'binary') {
        // A binary message that no frame header announced.
        for (const b of fc.sample(hostileBytes, { numRuns: per, seed })) out.push({ type, role, binary: b, how: 'binary:unannounced' });
        return;
      }
      const t = templates(role, o.tokens[role])[type];
      let arb: fc.Arbitrary<{ text: Payload; binary?: Uint8Array }> = hostilePayload(t).map((text) => ({ text }));
      if (type === 'signal') {
        // Every op, its data mutated as well as the envelope.
        arb = fc.constantFrom(...ops).chain((op) => hostilePayload({ ...t, op, data: { room: ROOM, transportId: 'x', producerId: 'y', consumerId: 'z', stream: 's0', direction: role === 'viewer' ? 'recv' : 'send', fps: 2, url: 'rtsp://127.0.0.1:1/x', kind: 'video', rtpParameters: {}, rtpCapabilities: {}, dtlsParameters: {} } }).map((text) => ({ text })));
      }
      if (type === 'frame') arb = fc.tuple(hostilePayload(t), jpegBodies(o.jpeg)).map(([text, body]) => ({ text: { ...text, how: `${text.how} body:${body.how}` }, binary: body.body }));
      for (const c of fc.sample(arb, { numRuns: per, seed })) out.push({ type, role, ...c, how: c.text.how });
    });
  });
  // Interleave the types so each lane (role) sees every type throughout.
  const byType = TYPES.map((t) => out.filter((c) => c.type === t));
  const mixed: WsCase[] = [];
  for (let i = 0; byType.some((l) => i < l.length); i++) for (const l of byType) if (i < l.length) mixed.push(l[i]!);
  return mixed;
}

/**
 * One socket per role, one case at a time on each (the three lanes run together): send the
 * case, then a ping as a barrier; an invalid message must get exactly one `invalid_message`
 * error naming the field the contracts' validator names, a valid one a reply carrying its
 * id (ack, signal, or an error other than `internal`); a close must follow exactly the
 * errors that document one (4401, 4403) or an oversize message (1009), and then the lane
 * connects again. Finally the gateway's counters must match the errors received.
 */
export async function fuzzWebSocket(o: WsFuzzOptions): Promise<{ summary: WsSummary; failures: string[] }> {
  const all = cases(o);
  const failures: string[] = [];
  const summary: WsSummary = {
    cases: Object.fromEntries(TYPES.map((t) => [t, { admin: 0, publisher: 0, viewer: 0 }])) as WsSummary['cases'],
    invalid: 0,
    errors: {},
    errorsCounted: {},
    invalidCounted: 0,
    closes: {},
    reconnects: 0,
    unanswered: [],
    late: [],
  };
  const before = await o.metrics();
  let n = 0;
  /** Invalid messages the gateway parsed (not cut off by the WebSocket layer first). */
  let invalidParsed = 0;

  async function open(role: Role): Promise<TestWsClient> {
    const c = await TestWsClient.connect(o.url, { token: o.tokens[role] });
    if (role === 'admin') await c.join(ROOM);
    else await c.request({ type: 'ping' });
    return c;
  }

  async function lane(role: Role): Promise<void> {
    let ws = await open(role);
    let closedCode: number | undefined;
    const watch = (c: TestWsClient) => void c.closed.then(({ code }) => (closedCode = code));
    watch(ws);
    /** Reply ids of this socket's earlier cases: a late reply names one of them. */
    const pastIds = new Set<string>();
    for (const c of all.filter((x) => x.role === role)) {
      summary.cases[c.type][role]++;
      const caseId = `c${++n}`;
      let expectReplyId: string | undefined;
      let invalidField: string | undefined;
      let invalid = false;
      let bytes = c.text?.bytes;
      if (bytes) {
        // Decoded as the gateway does (Buffer, so a BOM stays and makes the text invalid JSON).
        const p = parsed(bytes, (b) => Buffer.from(b).toString('utf8'));
        let value = p?.value as Record<string, unknown> | undefined;
        if (value && typeof value === 'object' && !Array.isArray(value)) {
          // Replies are matched by id: the template's placeholder becomes unique; a valid message without one gets one.
          if (value.id === 'c' || (clientMessage.is(value) && value.id === undefined)) {
            value = { ...value, id: caseId };
            bytes = new TextEncoder().encode(JSON.stringify(value));
          }
        }
        if (!p) {
          invalid = true;
          invalidField = '';
        } else {
          try {
            clientMessage.parse(value);
            expectReplyId = String(value!.id);
          } catch (err) {
            invalid = true;
            invalidField = (err as ValidationError).field;
          }
        }
        if (invalid) summary.invalid++;
      }
      const sendBinary = c.binary !== undefined && (c.type === 'binary' || (!invalid && c.type === 'frame'));
      const oversize = (bytes?.length ?? 0) > WS_MAX_MESSAGE_BYTES || (sendBinary && c.binary!.length > WS_MAX_MESSAGE_BYTES);
      // Text that is not UTF-8: the WebSocket layer closes with 1007 (RFC 6455) before the gateway sees it.
      const badUtf8 = bytes !== undefined && !isUtf8(bytes);
      const expectedClose = oversize ? WS_CLOSE.tooLarge : badUtf8 ? 1007 : undefined;
      if (bytes) ws.ws.send(bytes, { binary: false });
      if (sendBinary) ws.sendBinary(c.binary!);
      const got: ServerMessage[] = [];
      try {
        if (expectedClose !== undefined) {
          const { code } = await withTimeout(ws.closed, 20_000);
          summary.closes[code] = (summary.closes[code] ?? 0) + 1;
          // A frame header refused with a close (4401/4403) closes before its oversize JPEG can (1009).
          if (code !== expectedClose && !(c.type === 'frame' && (code === WS_CLOSE.forbidden || code === WS_CLOSE.unauthorized))) failures.push(`${role} ${c.how}: closed with ${code}, expected ${expectedClose}`);
        } else {
          if (expectReplyId !== undefined) {
            const reply = ws.next((m): m is ServerMessage => 'id' in m && m.id === expectReplyId && (m.type === 'ack' || m.type === 'signal' || m.type === 'error'), REPLY_WAIT_MS);
            reply.catch(() => undefined);
            // A valid message gets its reply; the socket closing first is a failure (reported below).
            const first = await Promise.race([reply.then((m) => ({ m })), ws.closed.then((closed) => ({ closed }))]);
            if ('closed' in first) throw new Error(`closed ${first.closed.code} without a reply`);
            got.push(first.m);
          }
          const closesOn = got.find((m) => m.type === 'error' && CLOSES[m.code] !== undefined);
          if (closesOn?.type === 'error') {
            const { code } = await withTimeout(ws.closed, 20_000);
            summary.closes[code] = (summary.closes[code] ?? 0) + 1;
            if (code !== CLOSES[closesOn.code]) failures.push(`${role} ${c.how}: ${closesOn.code} closed with ${code}`);
          } else {
            const barrier = `b${n}`;
            ws.send({ type: 'ping', id: barrier });
            await ws.next((m): m is ServerMessage => m.type === 'ack' && m.id === barrier, 20_000);
            got.push(...ws.take(isError));
            if (closedCode !== undefined) failures.push(`${role} ${c.how}: socket closed (${closedCode}) without a documented reason`);
          }
        }
      } catch (err) {
        // An uploaded frame without a reply was a gateway bug (its JPEG was handled before a
        // header that waited for a credential check: ws/credential-checks.ts): listed and failed.
        if (c.type === 'frame') summary.unanswered.push(`${role} ${c.how}: ${(err as Error).message}`);
        failures.push(`${role} ${c.type} ${c.how}: ${(err as Error).message}${closedCode !== undefined ? ` (closed ${closedCode})` : ''}`);
      }
      // Errors sent before the close (a frame header refused at once makes its JPEG `unexpected_binary`).
      got.push(...ws.take(isError));
      // A reply to an earlier case that gave up on it belongs to that case, not this one.
      for (let i = got.length - 1; i >= 0; i--) {
        const m = got[i]!;
        const id = 'id' in m && m.id !== undefined ? String(m.id) : undefined;
        if (id === undefined || id === expectReplyId || id === caseId || !pastIds.has(id)) continue;
        got.splice(i, 1);
        summary.late.push(`${id} ${m.type === 'error' ? m.code : m.type}`);
        if (m.type === 'error') summary.errors[m.code] = (summary.errors[m.code] ?? 0) + 1;
      }
      if (expectReplyId !== undefined) pastIds.add(expectReplyId);
      pastIds.add(caseId);
      for (const m of got) if (m.type === 'error') summary.errors[m.code] = (summary.errors[m.code] ?? 0) + 1;
      const errors = got.filter((m) => m.type === 'error');
      if (errors.some((e) => e.type === 'error' && e.code === 'internal')) failures.push(`${role} ${c.how}: internal error`);
      if (invalid && expectedClose === undefined) {
        invalidParsed++;
        const e = errors.find((m) => m.type === 'error' && m.code === 'invalid_message');
        if (errors.length !== 1 || e?.type !== 'error') failures.push(`${role} ${c.how}: invalid message got ${JSON.stringify(errors)}`);
        else if ((e.field ?? '') !== (invalidField ?? '')) failures.push(`${role} ${c.how}: invalid_message names ${JSON.stringify(e.field)}, expected ${JSON.stringify(invalidField)}`);
      }
      if (c.type === 'binary' && expectedClose === undefined && summary.unanswered.length === 0 && !errors.some((e) => e.type === 'error' && e.code === 'unexpected_binary')) failures.push(`${role} binary: no unexpected_binary error`);
      if (closedCode !== undefined || expectedClose !== undefined) {
        await ws.close();
        ws = await open(role);
        closedCode = undefined;
        watch(ws);
        summary.reconnects++;
      }
      if (failures.length > 50) break;
    }
    await ws.close();
  }

  await Promise.all(ROLES.map((r) => lane(r)));
  // Every error sent was counted, by code; every invalid message in lookout_bad_messages_total.
  await new Promise((r) => setTimeout(r, 500));
  const after = await o.metrics();
  const b = byLabel(before, 'lookout_gateway_ws_errors_total', 'code');
  for (const [code, v] of Object.entries(byLabel(after, 'lookout_gateway_ws_errors_total', 'code'))) summary.errorsCounted[code] = v - (b[code] ?? 0);
  summary.invalidCounted = (metricSum(after, 'lookout_bad_messages_total', { subject_kind: 'ws', reason: 'invalid' }) as number) - (metricSum(before, 'lookout_bad_messages_total', { subject_kind: 'ws', reason: 'invalid' }) as number);
  // An unanswered case's error may have come after the lane moved on: it is counted, not received.
  // So may an error sent as its socket was closing (a frame header refused with 4403 while an
  // oversize body closes with 1009): counted, never read. Received but not counted fails.
  const slack = summary.unanswered.length + summary.reconnects;
  for (const [code, v] of Object.entries(summary.errors)) if ((summary.errorsCounted[code] ?? 0) < v || (summary.errorsCounted[code] ?? 0) > v + slack) failures.push(`error ${code}: ${v} received, ${summary.errorsCounted[code] ?? 0} counted in lookout_gateway_ws_errors_total`);
  if (summary.invalidCounted !== invalidParsed) failures.push(`invalid messages: ${invalidParsed} refused, ${summary.invalidCounted} counted in lookout_bad_messages_total{subject_kind="ws",reason="invalid"}`);
  return { summary, failures };
}

function isUtf8(b: Uint8Array): boolean {
  try {
    utf8.decode(b);
    return true;
  } catch {
    return false;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms).unref())]);
}

