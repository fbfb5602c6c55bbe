import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * How many CPUs this process can actually use. `os.availableParallelism()` honours the
 * affinity mask but not a cgroup CPU quota: a container limited to 2 CPUs on a 64-core
 * node (Kubernetes `limits.cpu: 2`, `docker run --cpus 2`, systemd CPUQuota=200%) sees 64
 * and would start 64 workers, each then throttled.
 */
export interface CpuBudget {
  cpus: number;
  /** 'affinity' (no quota found) or the cgroup file that capped it. */
  source: string;
}

type Read = (file: string) => string | undefined;

const readOrUndefined: Read = (file) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

/** A cgroup v2 `cpu.max` ("200000 100000", or "max 100000" for none) as CPUs. */
export function parseCpuMax(text: string): number | undefined {
  const [quota, period] = text.trim().split(/\s+/);
  if (quota === 'max' || quota === undefined || period === undefined) return undefined;
  const cpus = Number(quota) / Number(period);
  return Number.isFinite(cpus) && cpus > 0 ? cpus : undefined;
}

/** cgroup v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us` as CPUs (quota -1 = none). */
export function parseCfsQuota(quota: string, period: string): number | undefined {
  const q = Number(quota.trim());
  const p = Number(period.trim());
  return q > 0 && p > 0 ? q / p : undefined;
}

/** Candidate quota files for this process, from /proc/self/cgroup (own group and its ancestors). */
export function quotaFiles(procSelfCgroup: string, mount = '/sys/fs/cgroup'): Array<{ v: 1 | 2; dir: string }> {
  const out: Array<{ v: 1 | 2; dir: string }> = [];
  for (const line of procSelfCgroup.split('\n')) {
    const [, controllers, group] = line.split(':');
    if (group === undefined) continue;
    const v1 = controllers?.split(',').includes('cpu');
    if (controllers !== '' && !v1) continue;
    const base = v1 ? path.join(mount, controllers!) : mount;
    // A limit on any ancestor applies too; in a container the group is often "/" itself.
    for (let g = path.posix.normalize(group); ; g = path.posix.dirname(g)) {
      out.push({ v: v1 ? 1 : 2, dir: path.join(base, g) });
      if (g === '/' || g === '.') break;
    }
  }
  return out;
}

/** The smallest CPU quota among `files`, as CPUs, with the file it came from. */
function smallestQuota(files: Array<{ v: 1 | 2; dir: string }>, read: Read): { cpus: number; file: string } | undefined {
  let best: { cpus: number; file: string } | undefined;
  for (const { v, dir } of files) {
    const file = v === 2 ? path.join(dir, 'cpu.max') : path.join(dir, 'cpu.cfs_quota_us');
    const text = read(file);
    if (text === undefined) continue;
    const cpus = v === 2 ? parseCpuMax(text) : parseCfsQuota(text, read(path.join(dir, 'cpu.cfs_period_us')) ?? '');
    if (cpus !== undefined && (best === undefined || cpus < best.cpus)) best = { cpus, file };
  }
  return best;
}

/** CPUs usable by this process: the affinity count, capped by a cgroup quota (rounded up, at least 1). */
export function usableCpus(read: Read = readOrUndefined, affinity = os.availableParallelism()): CpuBudget {
  const quota = smallestQuota(quotaFiles(read('/proc/self/cgroup') ?? ''), read);
  if (!quota || Math.ceil(quota.cpus) >= affinity) return { cpus: affinity, source: 'affinity' };
  return { cpus: Math.max(1, Math.ceil(quota.cpus)), source: quota.file };
}
