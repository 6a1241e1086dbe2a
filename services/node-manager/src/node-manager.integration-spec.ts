import { createEtcdClient, KeyLayout, type Etcd3 } from '@wharf/etcd';
import { FailedPreconditionError } from '@wharf/errors';
import { EtcdEventStore } from '@wharf/event-store';
import { NodeDirectory, nodeStream, type NodeStateName } from '@wharf/nodes';
import { dockerSocket, startEtcd, startNodeManager, startSocketProxy, waitFor, type EtcdInstance, type RunningNodeManager } from '@wharf/testing';

const TTL_S = 3;
const env = { WHARF_NODE_LEASE_TTL_S: String(TTL_S), WHARF_NODE_REPORT_MS: '300', WHARF_DATA_CENTER: `nm-${process.pid}` };

// Several node-managers with their own node ids on one machine and one real etcd: each is a node.
describe('node-manager: registration, heartbeats, lease expiry, lifecycle', () => {
  let etcd: EtcdInstance;
  let client: Etcd3;
  let store: EtcdEventStore;
  let nodes: NodeDirectory;
  const running = new Map<string, RunningNodeManager>();

  const start = async (id: string, extra: Record<string, string> = {}) => {
    const nm = await startNodeManager(etcd, id, { ...env, ...extra });
    running.set(id, nm);
    return nm;
  };
  const stateOf = async (id: string) => (await nodes.record(id))?.state;
  /** Waits for a state; a timeout says where the node is and which of its conditions fail. */
  const until = (id: string, state: NodeStateName, timeoutMs = 15_000) =>
    waitFor(
      `${id} ${state}`,
      async () => {
        const view = await nodes.get(id).catch(() => undefined);
        if (view?.record.state === state) return true;
        const failing = view?.heartbeat?.conditions.filter((c) => !c.ok).map((c) => `${c.type}: ${c.message}`) ?? [];
        throw new Error(`${id} is ${view?.record.state ?? 'not registered'}${failing.length ? `; failing ${failing.join('; ')}` : ''}`);
      },
      timeoutMs,
      50,
    );
  const leader = async () => {
    for (const nm of running.values()) {
      if (nm.process.child.exitCode !== null || nm.process.child.signalCode !== null) continue;
      const text = await (await fetch(`${nm.url}/metrics`)).text();
      if (/^wharf_node_lease_watcher 1$/m.test(text)) return nm;
    }
    return undefined;
  };

  beforeAll(async () => {
    etcd = await startEtcd();
    client = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
    store = new EtcdEventStore({ client, keys: new KeyLayout() });
    nodes = new NodeDirectory(client, new KeyLayout(), store);
    await Promise.all(['n1', 'n2', 'n3', 'n4'].map((id) => start(id)));
  });
  afterAll(async () => {
    for (const nm of running.values()) await nm.stop('SIGKILL').catch(() => undefined);
    client?.close();
    await etcd?.destroy();
  });

  it('registers every node, which goes NEW -> INITED -> READY with its heartbeat and conditions', async () => {
    for (const id of ['n1', 'n2', 'n3', 'n4']) await until(id, 'READY');
    expect(await nodes.ids()).toEqual(['n1', 'n2', 'n3', 'n4']);
    const view = await nodes.get('n1');
    expect(view.record).toMatchObject({ id: 'n1', address: '127.0.0.1', roles: ['manage', 'compute', 'gateway', 'storage'], cordoned: false });
    expect(view.heartbeat?.conditions.map((c) => [c.type, c.ok])).toEqual([
      ['runtime_reachable', true],
      ['disk_pressure', true],
      ['memory_pressure', true],
      ['etcd_reachable', true],
      ['clock_skew', true],
    ]);
    expect(Number(view.heartbeat?.capacity?.cpuMillis)).toBeGreaterThan(0);
    expect(Number(view.heartbeat?.capacity?.memoryBytes)).toBeGreaterThan(0);
    expect(Number(view.heartbeat?.usage?.diskBytes)).toBeGreaterThan(0);
    // Every transition is an event of the node's stream.
    const events = await store.read(nodeStream('n1'));
    expect(events.map((e) => [e.type.replace('wharf.events.v1.', ''), (e.message as { action?: string }).action ?? ''])).toEqual([
      ['NodeRegistered', ''],
      ['NodeStateChanged', 'init'],
      ['NodeStateChanged', 'online'],
    ]);
    const http = (await (await fetch(`${running.get('n1')!.url}/node`)).json()) as { state: string; heartbeat: { conditions: unknown[] } };
    expect(http.state).toBe('READY');
    expect((await fetch(`${running.get('n1')!.url}/readyz`)).status).toBe(200);
  });

  it('marks a node whose node-manager is killed (kill -9) ERROR_DETECTED, then ERROR on Docker', async () => {
    const watcher = await leader();
    expect(watcher).toBeDefined();
    // A node that is not the watcher dies; the elected watcher sees its key expire.
    const victim = [...running.values()].find((nm) => nm !== watcher && nm.nodeId !== 'n1')!;
    await victim.stop('SIGKILL');
    // Bounded by the lease TTL plus the etcd and watch delays: the bench measures the figure.
    await until(victim.nodeId, 'ERROR', TTL_S * 1000 + 5000);
    const moves = (await nodes.record(victim.nodeId))!.transitions.slice(-2);
    expect(moves.map((t) => [t.from, t.action, t.to])).toEqual([
      ['READY', 'fail', 'ERROR_DETECTED'],
      ['ERROR_DETECTED', 'migrated', 'ERROR'],
    ]);
    expect(moves[0].reason).toMatch(/heartbeat lease expired|no heartbeat/);
    expect(moves[1].reason).toContain('no other node to move replicas to');
    running.delete(victim.nodeId);
    running.set(`dead-${victim.nodeId}`, victim);
  });

  it('marks the elected watcher itself when it dies: another node-manager takes over', async () => {
    const watcher = (await leader())!;
    await watcher.stop('SIGKILL');
    running.delete(watcher.nodeId);
    running.set(`dead-${watcher.nodeId}`, watcher);
    await until(watcher.nodeId, 'ERROR', TTL_S * 3000 + 5000);
    expect(await waitFor('a new watcher', async () => (await leader()) ?? undefined, 10_000, 100)).toBeDefined();
  });

  it('refuses illegal transitions naming the state and the allowed moves, writing nothing', async () => {
    const alive = [...running.values()].find((nm) => nm.process.child.exitCode === null && nm.process.child.signalCode === null)!;
    const before = (await nodes.record(alive.nodeId))!;
    expect(before.state).toBe('READY');
    await expect(nodes.change(alive.nodeId, 'repair', { reason: 'test', actor: 'user:test' })).rejects.toThrow(
      new FailedPreconditionError(`node ${alive.nodeId} is READY: cannot repair; allowed from READY: cordon, fail, offline`),
    );
    await expect(nodes.change(alive.nodeId, 'uncordon', { reason: 'test', actor: 'user:test' })).rejects.toThrow(/allowed from READY: cordon, fail, offline/);
    expect((await nodes.record(alive.nodeId))!.version).toBe(before.version);
    await expect(nodes.change('nope', 'cordon', { reason: 'test', actor: 'user:test' })).rejects.toThrow('node nope not found');
  });

  it('a restarted node-manager finds its node and keeps its state (cordoned stays INITED, ERROR stays ERROR)', async () => {
    // A longer lease than the others: this one comes back within it, so it is never seen as dead.
    const slow = { WHARF_NODE_LEASE_TTL_S: '20' };
    const id = 'n5';
    await start(id, slow);
    await until(id, 'READY');
    await nodes.change(id, 'cordon', { reason: 'maintenance', actor: 'user:test' });
    await running.get(id)!.stop('SIGTERM');
    await start(id, slow);
    const dead = [...running.keys()].find((k) => k.startsWith('dead-'))!;
    const deadId = dead.slice('dead-'.length);
    await start(deadId);
    // A few rounds of reports: nothing moves by itself.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await stateOf(id)).toBe('INITED');
    expect((await nodes.record(id))!.cordoned).toBe(true);
    expect(await stateOf(deadId)).toBe('ERROR');
    const registered = (await store.read(nodeStream(id))).filter((e) => e.type === 'wharf.events.v1.NodeRegistered');
    expect(registered).toHaveLength(1);
    // Uncordon and repair by an administrator; the repaired node goes through its init checks again.
    await nodes.change(id, 'uncordon', { reason: 'done', actor: 'user:test' });
    await until(id, 'READY');
    await nodes.change(deadId, 'repair', { reason: 'fixed', actor: 'user:test' });
    await until(deadId, 'READY');
    expect((await nodes.record(deadId))!.transitions.slice(-3).map((t) => t.action)).toEqual(['repair', 'init', 'online']);
  });

  it("fails a READY node whose container runtime goes away, from its own node-manager's checks", async () => {
    // The machine's engine is never stopped: a proxy in front of it is cut instead.
    const proxy = await startSocketProxy(dockerSocket());
    try {
      await start('n6', { WHARF_DOCKER_SOCKET: proxy.path, WHARF_NODE_FAIL_AFTER: '3' });
      await until('n6', 'READY');
      await proxy.cut();
      await until('n6', 'ERROR');
      const [fail] = (await nodes.record('n6'))!.transitions.slice(-2);
      expect(fail).toMatchObject({ from: 'READY', action: 'fail', to: 'ERROR_DETECTED', actor: 'service:node-manager' });
      expect(fail.reason).toMatch(/^condition runtime_reachable failing: Docker Engine at .*engine\.sock/);
      // Its heartbeat goes on (the node-manager lives), with the condition failing.
      const hb = (await nodes.get('n6')).heartbeat!;
      expect(hb.conditions.find((c) => c.type === 'runtime_reachable')).toMatchObject({ ok: false });
    } finally {
      await proxy.close();
    }
  });

  it('keeps a node whose container runtime is unreachable NEW, saying why', async () => {
    await start('n9', { WHARF_DOCKER_SOCKET: '/nonexistent/docker.sock' });
    await waitFor('n9 registered', async () => (await nodes.get('n9').catch(() => undefined))?.heartbeat, 10_000, 50);
    await new Promise((r) => setTimeout(r, 1000));
    const view = await nodes.get('n9');
    expect(view.record.state).toBe('NEW');
    const runtime = view.heartbeat!.conditions.find((c) => c.type === 'runtime_reachable')!;
    expect(runtime.ok).toBe(false);
    expect(runtime.message).toContain('/nonexistent/docker.sock');
    expect(Number(runtime.lastChangeMs)).toBeGreaterThan(0);
  });

  it('takes a node OFFLINE from any state; nothing moves it afterwards', async () => {
    await nodes.change('n9', 'offline', { reason: 'removed', actor: 'user:test' });
    await expect(nodes.change('n9', 'init', { reason: 'x', actor: 'user:test' })).rejects.toThrow(
      'node n9 is OFFLINE: cannot init; nothing is allowed from OFFLINE',
    );
    await new Promise((r) => setTimeout(r, 1000));
    expect(await stateOf('n9')).toBe('OFFLINE');
  });
});
