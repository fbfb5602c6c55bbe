import { headers as natsHeaders, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { LookoutError, RPC_COMMON_ERRORS, RPC_REQUEST_HEADER, rpcReply, type ErrorCode, type RpcOp, type RpcReply, type RpcRequest, type RpcResult } from '@lookout/contracts';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Logger } from './logger.js';

/**
 * The one way to make and answer a request between services. Every operation is declared
 * in `@lookout/contracts` (rpc.ts); `call` validates the request before it leaves and the
 * reply when it arrives, `serve` validates the request when it arrives and the reply
 * before it leaves. Failures travel as LookoutError both ways: what a handler throws is
 * what the caller catches, with the same code, field and details.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface CallOptions {
  /** The instance to ask, for an operation addressed to one (`addressing: 'instance'`). */
  instance?: string;
  /** Overrides the operation's default timeout. */
  timeoutMs?: number;
  /** The raw bytes of an operation that carries a payload (an image). */
  payload?: Uint8Array;
}

function subjectOf(op: RpcOp, instance: string | undefined): string {
  if (op.addressing === 'instance' && instance === undefined) throw new Error(`${op.name}: addressed to one instance; pass { instance }`);
  return op.subject(instance);
}

function encodeRequest(op: RpcOp, request: unknown, payload: Uint8Array | undefined): { body: Uint8Array; headers?: MsgHdrs } {
  const json = JSON.stringify(op.request.parse(request));
  if (!op.payload) return { body: encoder.encode(json) };
  if (!payload) throw new Error(`${op.name}: needs a payload (${op.payload})`);
  const h = natsHeaders();
  h.set(RPC_REQUEST_HEADER, json);
  return { body: payload, headers: h };
}

/**
 * Asks `op` and returns its validated result. Throws LookoutError: the server's own error,
 * `unavailable` when nobody answered (no responders, timeout, connection closed), or
 * `internal` when the reply does not match the contract.
 */
export async function call<O extends RpcOp>(nc: NatsConnection, op: O, request: RpcRequest<O>, opts: CallOptions = {}): Promise<RpcResult<O>> {
  const subject = subjectOf(op, opts.instance);
  const { body, headers } = encodeRequest(op, request, opts.payload);
  let msg: Msg;
  try {
    msg = await nc.request(subject, body, { timeout: opts.timeoutMs ?? op.timeoutMs, ...(headers ? { headers } : {}) });
  } catch (err) {
    const why = (err as Error & { isNoResponders?: () => boolean }).isNoResponders?.() ? `no ${op.server} is running` : (err as Error).message;
    throw new LookoutError('unavailable', `${op.name}: ${why}`);
  }
  let reply: RpcReply;
  try {
    reply = rpcReply.parse(JSON.parse(decoder.decode(msg.data)));
  } catch (err) {
    throw new LookoutError('internal', `${op.name}: malformed reply (${(err as Error).message})`);
  }
  if (!reply.ok) throw LookoutError.fromBody(reply.error);
  try {
    return op.reply.parse(reply.data) as RpcResult<O>;
  } catch (err) {
    throw new LookoutError('internal', `${op.name}: reply does not match the contract (${(err as Error).message})`);
  }
}

export interface RequestContext {
  /** The raw bytes of an operation with a payload; empty otherwise. */
  readonly payload: Uint8Array;
  readonly subject: string;
}

export type Handler<O extends RpcOp> = (request: RpcRequest<O>, ctx: RequestContext) => Promise<RpcResult<O>> | RpcResult<O>;

export interface ServeOptions {
  /** This instance's id, for an operation addressed to one instance. */
  instance?: string;
  /**
   * Turns a failure that is not a LookoutError into one (e.g. mediasoup's TypeError into
   * `invalid_parameters`); anything it leaves is logged and answered as `internal`.
   */
  mapError?: (err: unknown) => LookoutError | undefined;
}

/** A served operation (or several); stop() drains, so requests in flight are answered. */
export interface Responder {
  stop(): Promise<void>;
}

export interface RpcMetrics {
  served: Counter<'op' | 'outcome'>;
  seconds: Histogram<'op'>;
  badRequests: Counter<'subject_kind' | 'reason'>;
}

/** Metrics of the operations a service answers, on its registry. */
export function rpcMetrics(registry: Registry, badRequests: Counter<'subject_kind' | 'reason'>): RpcMetrics {
  return {
    served: new Counter({ name: 'lookout_rpc_served_total', help: 'Requests answered, by operation and outcome (ok, or the error code)', labelNames: ['op', 'outcome'], registers: [registry] }),
    seconds: new Histogram({
      name: 'lookout_rpc_served_seconds',
      help: 'Time to answer a request, by operation',
      labelNames: ['op'],
      buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10, 60],
      registers: [registry],
    }),
    badRequests,
  };
}

export interface RpcServerDeps {
  nc: NatsConnection;
  log: Logger;
  metrics: RpcMetrics;
}

/** Answers operations for one service (its main.ts has one, as `svc.rpc`). */
export class RpcServer {
  constructor(private readonly d: RpcServerDeps) {}

  /**
   * Answers `op` (any replica, through the op's queue group, or this instance). Never
   * throws out of a request: a bad request is counted and answered `invalid_request`, a
   * handler's failure becomes an error reply.
   */
  serve<O extends RpcOp>(op: O, handler: Handler<O>, opts: ServeOptions = {}): Responder {
    const { nc, log } = this.d;
    const sub: Subscription = nc.subscribe(subjectOf(op, opts.instance), {
      ...(op.addressing === 'service' && op.queue ? { queue: op.queue } : {}),
      callback: (err, msg) => {
        if (err) return log.error({ err, op: op.name }, 'subscription error');
        void this.answer(op, handler, msg, opts);
      },
    });
    return { stop: async () => (sub.isClosed() ? undefined : sub.drain()) };
  }

  /** Serves every operation of a group (e.g. `rpc.gallery`), one handler each. */
  serveAll<G extends Record<string, RpcOp>>(group: G, handlers: { [K in keyof G]: Handler<G[K]> }, opts: ServeOptions = {}): Responder {
    const responders = Object.keys(group).map((k) => this.serve(group[k]!, handlers[k]! as Handler<RpcOp>, opts));
    return { stop: async () => void (await Promise.all(responders.map((r) => r.stop()))) };
  }

  private async answer<O extends RpcOp>(op: O, handler: Handler<O>, msg: Msg, opts: ServeOptions): Promise<void> {
    const end = this.d.metrics.seconds.startTimer({ op: op.name });
    const reply = await this.reply(op, handler, msg, opts);
    end();
    this.d.metrics.served.inc({ op: op.name, outcome: reply.ok ? 'ok' : reply.error.code });
    if (msg.reply) msg.respond(encoder.encode(JSON.stringify(reply)));
  }

  private async reply<O extends RpcOp>(op: O, handler: Handler<O>, msg: Msg, opts: ServeOptions): Promise<RpcReply> {
    let request: RpcRequest<O>;
    try {
      request = decodeRequest(op, msg) as RpcRequest<O>;
    } catch (err) {
      this.d.metrics.badRequests.inc({ subject_kind: op.name, reason: 'invalid' });
      return this.failure(op, err, opts);
    }
    let result: unknown;
    try {
      result = (await handler(request, { payload: op.payload ? msg.data : new Uint8Array(0), subject: msg.subject })) ?? null;
    } catch (err) {
      return this.failure(op, err, opts);
    }
    try {
      return { ok: true, data: op.reply.parse(result) };
    } catch (err) {
      this.d.log.error({ err, op: op.name }, 'reply does not match the contract');
      return { ok: false, error: { code: 'internal', message: `${op.name}: the reply did not match the contract` } };
    }
  }

  private readonly warned = new Set<string>();

  private failure(op: RpcOp, err: unknown, opts: ServeOptions): RpcReply {
    const e = err instanceof LookoutError ? err : opts.mapError?.(err);
    if (!e) {
      this.d.log.error({ err, op: op.name }, 'request failed');
      return { ok: false, error: { code: 'internal', message: `${op.name} failed` } };
    }
    const key = `${op.name}:${e.code}`;
    if (!(RPC_COMMON_ERRORS as readonly ErrorCode[]).includes(e.code) && !op.errors.includes(e.code) && !this.warned.has(key)) {
      this.warned.add(key);
      this.d.log.warn({ op: op.name, code: e.code }, 'answered an error code the operation does not declare (contracts rpc.ts)');
    }
    return { ok: false, error: e.toBody() };
  }
}

function decodeRequest(op: RpcOp, msg: Msg): unknown {
  const text = op.payload ? (msg.headers?.get(RPC_REQUEST_HEADER) || '{}') : decoder.decode(msg.data);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new LookoutError('invalid_request', `${op.name} request: not valid JSON`);
  }
  return op.request.parse(body);
}
