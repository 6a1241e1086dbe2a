import {
  afterAction,
  defaultMaintenancePolicy,
  emptyMemory,
  planMaintenance,
  recordSample,
  type MaintenanceMemory,
  type MemberObservation,
  type Observation,
} from './maintenance-policy';

const MiB = 1024 * 1024;
const QUOTA = 100 * MiB;
const policy = defaultMaintenancePolicy(60_000); // pressure retention 6 s
const member = (endpoint: string, dbMiB: number, inUseMiB: number, isLeader = false): MemberObservation => ({
  endpoint,
  memberId: endpoint,
  isLeader,
  dbSizeBytes: dbMiB * MiB,
  dbSizeInUseBytes: inUseMiB * MiB,
});
const observe = (over: Partial<Observation> = {}): Observation => ({
  nowMs: 1_000_000,
  revision: 5000n,
  members: [member('a', 10, 8, true)],
  nospace: false,
  quotaBytes: QUOTA,
  ...over,
});
/** Memory with one sample per 5 s up to nowMs, revision 100 per sample. */
function history(nowMs = 1_000_000, overMs = 120_000): MaintenanceMemory {
  let m = emptyMemory();
  for (let t = nowMs - overMs; t <= nowMs; t += 5000) m = recordSample(m, t, BigInt(t / 50), { ...policy, retentionMs: overMs });
  return m;
}

describe('planMaintenance: compaction', () => {
  it.each([
    ['no sample old enough yet: nothing', emptyMemory(), observe(), undefined],
    ['keeps the retention: compacts to the revision seen 60 s ago', history(), observe(), BigInt((1_000_000 - 60_000) / 50)],
    ['under pressure keeps only the pressure retention (6 s)', history(), observe({ members: [member('a', 60, 55, true)] }), BigInt((1_000_000 - 10_000) / 50)],
    ['under NOSPACE drops all history', history(), observe({ nospace: true, members: [member('a', 101, 100, true)] }), 5000n],
  ])('%s', (_name, memory, obs, revision) => {
    const plan = planMaintenance(obs, memory, policy);
    if (revision === undefined) expect(plan.action).toBeUndefined();
    else expect(plan.action).toMatchObject({ kind: 'compact', revision });
  });

  it('does not compact the same point twice', () => {
    const memory = history();
    const first = planMaintenance(observe(), memory, policy).action!;
    expect(first.kind).toBe('compact');
    expect(planMaintenance(observe(), afterAction(memory, first, 1_000_000), policy).action).toBeUndefined();
  });

  it('forgets samples older than the one it needs, and bounds their number', () => {
    let m = emptyMemory();
    for (let t = 0; t <= 600_000; t += 5000) m = recordSample(m, t, BigInt(t), policy);
    expect(m.samples[0].atMs).toBe(600_000 - 60_000);
    let many = emptyMemory();
    for (let t = 0; t < 5000; t++) many = recordSample(many, t, BigInt(t), policy);
    expect(many.samples.length).toBeLessThanOrEqual(1000);
  });
});

describe('planMaintenance: defragmentation', () => {
  const compacted = () => afterAction(emptyMemory(), { kind: 'compact', revision: 1n, reason: '' }, 0);
  it.each([
    ['a small free part is not worth blocking a member', [member('a', 30, 25, true)], undefined],
    ['half the file free, and 10% of the quota to gain: defragmented', [member('a', 30, 10, true)], 'a'],
    ['half free but little to gain against the quota: left alone', [member('a', 12, 5, true)], undefined],
    ['under pressure a quarter free is enough', [member('a', 60, 44, true)], 'a'],
    ['followers before the leader', [member('leader', 40, 5, true), member('f1', 30, 10), member('f2', 40, 10)], 'f2'],
  ])('%s', (_name, members, endpoint) => {
    const plan = planMaintenance(observe({ revision: 1n, members }), compacted(), policy);
    if (endpoint === undefined) expect(plan.action).toBeUndefined();
    else expect(plan.action).toMatchObject({ kind: 'defragment', endpoint });
  });

  it('defragments one member per step and each member once per compaction', () => {
    const members = [member('a', 40, 5, true), member('b', 40, 5)];
    let memory = compacted();
    const done: string[] = [];
    for (let step = 0; step < 5; step++) {
      const action = planMaintenance(observe({ revision: 1n, members }), memory, policy).action;
      if (!action) break;
      expect(action.kind).toBe('defragment');
      if (action.kind === 'defragment') done.push(action.endpoint);
      memory = afterAction(memory, action, 1_000_000);
    }
    expect(done).toEqual(['b', 'a']);
  });

  it('waits the interval before defragmenting the same member again', () => {
    const members = [member('a', 40, 5, true)];
    let memory = afterAction(compacted(), { kind: 'defragment', endpoint: 'a', reason: '' }, 1_000_000 - 1000);
    memory = afterAction(memory, { kind: 'compact', revision: 2n, reason: '' }, 1_000_000);
    expect(planMaintenance(observe({ revision: 2n, members }), memory, policy).action).toBeUndefined();
    expect(planMaintenance(observe({ revision: 2n, members, nowMs: 1_000_000 + policy.defragIntervalMs }), memory, policy).action).toMatchObject({
      kind: 'defragment',
    });
  });
});

describe('planMaintenance: NOSPACE', () => {
  it('compacts, defragments every member, then disarms', () => {
    let memory = history();
    const full = [member('a', 101, 100, true), member('b', 101, 100)];
    const after = [member('a', 20, 20, true), member('b', 20, 20)];
    const steps: string[] = [];
    let members = full;
    for (let i = 0; i < 6; i++) {
      const { action } = planMaintenance(observe({ nospace: true, members }), memory, policy);
      if (!action) break;
      steps.push(action.kind === 'defragment' ? `defragment ${action.endpoint}` : action.kind);
      memory = afterAction(memory, action, 1_000_000);
      if (action.kind === 'defragment') members = members.map((m) => (m.endpoint === action.endpoint ? after.find((x) => x.endpoint === m.endpoint)! : m));
      if (action.kind === 'disarm') break;
    }
    expect(steps).toEqual(['compact', 'defragment b', 'defragment a', 'disarm']);
  });

  it('stays raised and says why when live data fills the quota', () => {
    let memory = history();
    memory = afterAction(memory, { kind: 'compact', revision: 5000n, reason: '' }, 1_000_000);
    memory = afterAction(memory, { kind: 'defragment', endpoint: 'a', reason: '' }, 1_000_000);
    const plan = planMaintenance(observe({ nospace: true, members: [member('a', 95, 95, true)] }), memory, policy);
    expect(plan.action).toBeUndefined();
    expect(plan.warning).toMatch(/full of live data.*raise --quota-backend-bytes/);
  });
});
