import os from 'node:os';
import { parseCfsQuota, parseCpuMax, quotaFiles, usableCpus } from '@lookout/service-kit';

const fake = (files: Record<string, string>) => (file: string) => files[file];

describe('usable CPUs (affinity capped by a cgroup quota)', () => {
  it('parses cgroup v2 cpu.max and v1 CFS quotas', () => {
    expect(parseCpuMax('200000 100000\n')).toBe(2);
    expect(parseCpuMax('150000 100000')).toBe(1.5);
    expect(parseCpuMax('max 100000\n')).toBeUndefined();
    expect(parseCfsQuota('-1\n', '100000\n')).toBeUndefined();
    expect(parseCfsQuota('50000\n', '100000\n')).toBe(0.5);
  });

  it('finds the quota files of the own group and its ancestors (v2, hybrid v1)', () => {
    expect(quotaFiles('0::/system.slice/lookout.service\n')).toEqual([
      { v: 2, dir: '/sys/fs/cgroup/system.slice/lookout.service' },
      { v: 2, dir: '/sys/fs/cgroup/system.slice' },
      { v: 2, dir: '/sys/fs/cgroup/' },
    ]);
    // A Debian host with the hybrid layout (captured): only the cpu controller's line counts for v1.
    const hybrid = '9:name=systemd:/\n4:memory:/process_api/dfad4e8c\n2:cpuacct:/\n1:cpu:/\n0::/\n';
    expect(quotaFiles(hybrid)).toEqual([
      { v: 1, dir: '/sys/fs/cgroup/cpu/' },
      { v: 2, dir: '/sys/fs/cgroup/' },
    ]);
    expect(quotaFiles('5:cpu,cpuacct:/docker/abc\n')[0]).toEqual({ v: 1, dir: '/sys/fs/cgroup/cpu,cpuacct/docker/abc' });
  });

  it('caps the affinity count by the smallest quota, rounded up', () => {
    const container = fake({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': '150000 100000\n' });
    expect(usableCpus(container, 64)).toEqual({ cpus: 2, source: '/sys/fs/cgroup/cpu.max' });
    const slice = fake({ '/proc/self/cgroup': '0::/a/b\n', '/sys/fs/cgroup/a/b/cpu.max': 'max 100000', '/sys/fs/cgroup/a/cpu.max': '300000 100000' });
    expect(usableCpus(slice, 8)).toEqual({ cpus: 3, source: '/sys/fs/cgroup/a/cpu.max' });
    const v1 = fake({ '/proc/self/cgroup': '3:cpu,cpuacct:/\n', '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '50000', '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000' });
    expect(usableCpus(v1, 4)).toEqual({ cpus: 1, source: '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us' });
  });

  it('keeps the affinity count without a quota or with a larger one', () => {
    expect(usableCpus(fake({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': 'max 100000' }), 2)).toEqual({ cpus: 2, source: 'affinity' });
    expect(usableCpus(fake({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': '800000 100000' }), 2)).toEqual({ cpus: 2, source: 'affinity' });
    expect(usableCpus(fake({}), 3)).toEqual({ cpus: 3, source: 'affinity' });
  });

  it('answers on this machine', () => {
    const { cpus } = usableCpus();
    expect(cpus).toBeGreaterThanOrEqual(1);
    expect(cpus).toBeLessThanOrEqual(os.availableParallelism());
  });
});
