import type { NatsConnection } from '@nats-io/transport-node';
import { decodeJson, sfuReply, subjects, type SfuOp, type SfuReply } from '@lookout/contracts';
import { childPids } from '@lookout/service-kit';

/** Calls one SFU signaling operation and returns its reply (ok or error) as sent. */
export async function sfuCall(nc: NatsConnection, instance: string, op: SfuOp | string, body: unknown, timeoutMs = 20_000): Promise<SfuReply> {
  const data = typeof body === 'string' ? new TextEncoder().encode(body) : new TextEncoder().encode(JSON.stringify(body));
  const msg = await nc.request(subjects.sfu(instance, op), data, { timeout: timeoutMs });
  return decodeJson(sfuReply, msg.data);
}

/** Like sfuCall, but returns `data` and throws with the error's code and message otherwise. */
export async function sfuOk<T = unknown>(nc: NatsConnection, instance: string, op: SfuOp, body: unknown): Promise<T> {
  const reply = await sfuCall(nc, instance, op, body);
  if (!reply.ok) throw new Error(`${op}: ${reply.error.code}: ${reply.error.message}`);
  return reply.data as T;
}

/**
 * pids of a process's children whose command name is `name` (the kernel keeps 15 bytes
 * of it: 'mediasoup-worker' finds 'mediasoup-worke'). Linux /proc, via service-kit.
 */
export function childProcesses(parentPid: number, name: string): Promise<number[]> {
  return childPids(parentPid, name);
}
