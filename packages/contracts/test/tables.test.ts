import { ERROR_CODES, RPC_OPS, rpc, SERVICES, storage, STORES, type RpcOp, type StoreDecl } from '@lookout/contracts';

/**
 * The operation table (rpc.ts) and the store table (storage.ts) are the one declaration of
 * every request/reply and every bucket and stream. Each check below returns what is wrong,
 * so it is also run on a broken copy of the table: a check that can find nothing finds
 * nothing on the real table either.
 */

const isService = (s: string) => (SERVICES as readonly string[]).includes(s);
const norm = (s: string) => s.replace(/_/g, '').toLowerCase();
const dupes = <T>(xs: readonly T[]) => xs.filter((x, i) => xs.indexOf(x) !== i);

interface Grouped {
  group: string;
  key: string;
  op: RpcOp;
}

const grouped: Grouped[] = Object.entries(rpc).flatMap(([group, ops]) => Object.entries(ops as Record<string, RpcOp>).map(([key, op]) => ({ group, key, op })));

function rpcProblems(ops: readonly Grouped[]): string[] {
  const out: string[] = [];
  const subjectOf = (op: RpcOp, instance = 'i1') => (op.addressing === 'instance' ? op.subject(instance) : op.subject());
  for (const d of dupes(ops.map((o) => o.op.name))) out.push(`name ${d} is used twice`);
  for (const d of dupes(ops.map((o) => subjectOf(o.op)))) out.push(`subject ${d} is used twice`);
  for (const { group, key, op } of ops) {
    const [prefix, opName, ...rest] = op.name.split('.');
    if (rest.length || prefix !== group || norm(opName ?? '') !== norm(key)) out.push(`${op.name}: not <${group}>.<${key}>`);
    if (!isService(op.server)) out.push(`${op.name}: server ${op.server} is not a service`);
    if (!op.callers.length || op.callers.some((c) => !isService(c) || c === op.server)) out.push(`${op.name}: callers ${op.callers.join(',')}`);
    for (const code of op.errors) if (!Object.hasOwn(ERROR_CODES, code)) out.push(`${op.name}: error code ${code} is not in ERROR_CODES`);
    for (const d of dupes(op.errors)) out.push(`${op.name}: error code ${d} listed twice`);
    if (op.addressing === 'service' && !op.queue) out.push(`${op.name}: served by any replica but has no queue group`);
    if (op.addressing === 'instance' && (op.queue || op.subject('i1') === op.subject('i2'))) out.push(`${op.name}: addressed to an instance but its subject does not name one`);
    if (/[*>\s]/.test(subjectOf(op))) out.push(`${op.name}: subject ${subjectOf(op)} has a wildcard or a space`);
    if (!(op.timeoutMs > 0)) out.push(`${op.name}: timeout ${op.timeoutMs}`);
  }
  // A group (gallery, sfu, …) is served by one service.
  for (const group of new Set(ops.map((o) => o.group))) {
    const servers = new Set(ops.filter((o) => o.group === group).map((o) => o.op.server));
    if (servers.size !== 1) out.push(`${group}: served by ${[...servers].join(' and ')}`);
  }
  return out;
}

function storageProblems(stores: readonly StoreDecl[]): string[] {
  const out: string[] = [];
  for (const d of dupes(stores.map((s) => s.name))) out.push(`store ${d} is declared twice`);
  for (const d of dupes(stores.map((s) => (s.kind === 'kv' ? `KV_${s.name}` : s.name)))) out.push(`stream ${d} backs two stores`);
  for (const s of stores) {
    if (!isService(s.owner)) out.push(`${s.name}: owner ${s.owner} is not a service`);
    if (s.users.some((u) => !isService(u) || u === s.owner) || dupes(s.users).length) out.push(`${s.name}: users ${s.users.join(',')}`);
    if (s.kind === 'kv' && (s.history < 1 || s.ttlMs < 0)) out.push(`${s.name}: history ${s.history}, ttl ${s.ttlMs}`);
    if (s.kind === 'stream' && (!s.subjects.length || s.maxAgeMs < 0 || s.duplicateWindowMs <= 0 || (s.maxAgeMs > 0 && s.duplicateWindowMs > s.maxAgeMs))) out.push(`${s.name}: subjects, age or window`);
  }
  return out;
}

describe('the operation table', () => {
  it('lists every operation once in RPC_OPS', () => {
    expect(RPC_OPS).toHaveLength(grouped.length);
    expect(new Set(RPC_OPS)).toEqual(new Set(grouped.map((g) => g.op)));
  });

  it('is coherent: unique names and subjects, <group>.<op> names, known codes, queue groups for service-addressed ops', () => {
    expect(rpcProblems(grouped)).toEqual([]);
  });

  it('finds what is wrong in a broken table', () => {
    const list = grouped.find((g) => g.key === 'list' && g.group === 'gallery')!;
    const analyze = grouped.find((g) => g.group === 'detector')!;
    const broken: Grouped[] = [
      ...grouped,
      // A second op on gallery.list's subject, named against the convention, with an unknown code and no queue.
      { group: 'gallery', key: 'list2', op: { ...list.op, name: 'reid.list2', errors: ['no_such_code' as never], queue: undefined } },
      { group: 'detector', key: 'analyze', op: { ...analyze.op, server: 'gateway' } },
    ];
    expect(rpcProblems(broken)).toEqual(
      expect.arrayContaining([
        'name detector.analyze is used twice',
        'subject gallery.list is used twice',
        'reid.list2: not <gallery>.<list2>',
        'reid.list2: error code no_such_code is not in ERROR_CODES',
        'reid.list2: served by any replica but has no queue group',
        'detector: served by detector and gateway',
      ]),
    );
  });
});

describe('the store table', () => {
  it('lists every store once in STORES', () => {
    expect(STORES).toEqual(Object.values(storage));
  });

  it('has unique names, known owners and users', () => {
    expect(storageProblems(STORES)).toEqual([]);
  });

  it('finds what is wrong in a broken table', () => {
    const broken: StoreDecl[] = [...STORES, { ...storage.roomConfig, owner: 'janitor' as never, users: ['gateway'] }];
    expect(storageProblems(broken)).toEqual(['store lookout_room_config is declared twice', 'stream KV_lookout_room_config backs two stores', 'lookout_room_config: owner janitor is not a service']);
  });
});
