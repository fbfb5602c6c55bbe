import { childPids } from '@lookout/service-kit';

/**
 * pids of a process's children whose command name is `name` (the kernel keeps 15 bytes
 * of it: 'mediasoup-worker' finds 'mediasoup-worke'). Linux /proc, via service-kit.
 */
export function childProcesses(parentPid: number, name: string): Promise<number[]> {
  return childPids(parentPid, name);
}
