import type { NatsConnection } from '@nats-io/transport-node';
import { decodeJson, sfuReply, subjects, type SfuOp, type SfuReply } from '@lookout/contracts';

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

/** pids of a process's children whose command name is `name` (Linux /proc). */
export async function childProcesses(parentPid: number, name: string): Promise<number[]> {
  const { readdir, readFile } = await import('node:fs/promises');
  const out: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parentPid && comm === name) out.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}
