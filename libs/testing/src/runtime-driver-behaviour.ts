import { ReplicaCreateError, type ReplicaEvent, type ReplicaLabels, type ReplicaSpec, type RuntimeDriver } from '@wharf/runtime';
import { waitFor } from './ports';

/**
 * The behaviour every RuntimeDriver adapter must have, as one suite: the in-memory fake runs it
 * in the unit tier, the Docker driver against the real engine (and a Kubernetes driver will,
 * against a real cluster). Call it inside a test file; it declares its own tests.
 */
export interface DriverFixture {
  driver: RuntimeDriver;
  /** A driver of another data center on the same engine. */
  other: RuntimeDriver;
  images: {
    /** Serves HTTP on `port` forever; writes a line at start. */
    http: string;
    /** Writes "boom" and exits 3 at once. */
    crash: string;
    /** Allocates memory until the limit kills it. */
    oom: string;
    /** Writes "tick N" every 100-200 ms. */
    chatty: string;
  };
  port: number;
  /** A host port that something else holds for the duration of the test. */
  holdHostPort(): Promise<{ port: number; release(): Promise<void> }>;
  /** Unique per test run: tenant ids of the suite's replicas start with it. */
  runId: string;
}

export function runtimeDriverBehaviour(name: string, setup: () => Promise<DriverFixture>, teardown: (f: DriverFixture) => Promise<void>): void {
  describe(`RuntimeDriver behaviour: ${name}`, () => {
    let f: DriverFixture;
    let n = 0;
    beforeAll(async () => {
      f = await setup();
    });
    afterAll(async () => {
      if (f) await teardown(f);
    });
    afterEach(async () => {
      // Everything a test made, in both data centers.
      for (const d of [f.driver, f.other]) for (const r of await d.listReplicas()) await d.removeReplica(r.id, { graceMs: 0 });
      for (const d of [f.driver, f.other]) await d.removeVolumes({});
    });

    const spec = (over: Partial<ReplicaSpec> & { slot?: number; template?: string; dataCenter?: string } = {}): ReplicaSpec => {
      const tenant = `${f.runId}t${++n}`.slice(0, 40);
      const labels: ReplicaLabels = {
        dataCenter: over.dataCenter ?? f.driver.dataCenter,
        tenantId: tenant,
        appId: `${tenant}.shop`,
        componentId: `${tenant}.shop.api`,
        versionId: 'v1',
        slot: over.slot ?? 1,
        template: over.template ?? 'abc123',
        restarts: 0,
      };
      return {
        labels,
        names: { tenant, app: 'shop', component: 'api' },
        image: f.images.http,
        env: [
          { name: 'GREETING', value: 'hello', secret: false },
          { name: 'DB_PASSWORD', value: 's3cr3t-value', secret: true },
        ],
        cpuMillis: 200,
        memoryMib: 64,
        ports: [{ port: f.port, protocol: 'http' }],
        volumes: [],
        aliases: ['api.shop'],
        stopGraceMs: 1000,
        ...over,
      };
    };
    const until = <T>(what: string, probe: () => Promise<T | undefined>) => waitFor(what, probe, 20_000, 50);
    const phaseOf = async (id: string) => (await f.driver.inspectReplica(id))?.phase;

    it('creates a running replica with a readable name and every label, and lists it by labels only', async () => {
      const s = spec();
      const r = await f.driver.createReplica(s);
      expect(r.name).toBe(`${(f.driver as { namePrefix?: string }).namePrefix ?? 'wharf'}-${s.names.tenant}-shop-api-1`);
      expect(r.labels).toEqual(s.labels);
      expect(r.phase).toBe('running');
      expect(r.address).not.toBe('');
      expect((await f.driver.listReplicas({ componentId: s.labels.componentId })).map((x) => x.id)).toEqual([r.id]);
      expect(await f.driver.listReplicas({ componentId: `${s.labels.componentId}x` })).toEqual([]);
      expect(await f.driver.listReplicas({ componentId: s.labels.componentId, slot: 2 })).toEqual([]);
    });

    it('is idempotent for one (component, slot, template), and refuses a second template in a taken slot', async () => {
      const s = spec();
      const a = await f.driver.createReplica(s);
      const b = await f.driver.createReplica(s);
      expect(b.id).toBe(a.id);
      await expect(f.driver.createReplica({ ...s, labels: { ...s.labels, template: 'def456' } })).rejects.toMatchObject({ reason: 'name_taken' });
      expect(await f.driver.listReplicas({ componentId: s.labels.componentId })).toHaveLength(1);
    });

    it('never shows another data center its replicas, nor lets it remove them', async () => {
      const mine = await f.driver.createReplica(spec());
      const theirs = await f.other.createReplica(spec({ dataCenter: f.other.dataCenter }));
      expect((await f.driver.listReplicas()).map((r) => r.id)).toContain(mine.id);
      expect((await f.driver.listReplicas()).map((r) => r.id)).not.toContain(theirs.id);
      expect(await f.driver.inspectReplica(theirs.id)).toBeUndefined();
      await expect(f.driver.removeReplica(theirs.id)).rejects.toThrow(/not a replica of data center/);
      expect((await f.other.inspectReplica(theirs.id))?.phase).toBe('running');
    });

    it('gives the container its env, secrets included, but never puts a value in a label', async () => {
      const r = await f.driver.createReplica(spec());
      const env = await f.driver.exec(r.id, ['env'], { timeoutMs: 5000 });
      expect(env.exitCode).toBe(0);
      expect(env.output).toContain('GREETING=hello');
      expect(env.output).toContain('DB_PASSWORD=s3cr3t-value');
      const labels = JSON.stringify(r.labels) + JSON.stringify(await f.driver.listReplicas());
      expect(labels).not.toContain('s3cr3t-value');
    });

    it('refuses a missing image with image_missing, and leaves nothing behind', async () => {
      const s = spec({ image: `${f.runId}-no-such-image:1` });
      await expect(f.driver.createReplica(s)).rejects.toMatchObject({ reason: 'image_missing', message: expect.stringContaining(s.image) });
      expect(await f.driver.listReplicas({ componentId: s.labels.componentId })).toEqual([]);
    });

    it('refuses input that could reach the runtime as something else', async () => {
      for (const bad of [
        spec({ env: [{ name: 'A=B', value: 'x', secret: false }] }),
        spec({ image: '--privileged' }),
        spec({ volumes: [{ name: 'data', mountPath: '/../etc', sizeMib: 1 }] }),
        spec({ aliases: ['Bad Alias'] }),
        spec({ names: { tenant: 'UPPER', app: 'shop', component: 'api' } }),
      ]) {
        const err = await f.driver.createReplica(bad).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ReplicaCreateError);
        expect((err as ReplicaCreateError).reason).toBe('invalid_spec');
        expect((err as Error).message).not.toContain('s3cr3t-value');
      }
    });

    it('reports a process that exits at once with its exit code, and keeps its last lines', async () => {
      const r = await f.driver.createReplica(spec({ image: f.images.crash }));
      await until('the replica to exit', async () => ((await phaseOf(r.id)) === 'exited' ? true : undefined));
      const state = (await f.driver.inspectReplica(r.id))!;
      expect(state.exitCode).toBe(3);
      expect(state.oomKilled).toBeFalsy();
      const lines: string[] = [];
      for await (const l of f.driver.logs(r.id, { tail: 5, follow: false })) lines.push(l.text);
      expect(lines).toContain('boom');
    });

    it('kills a replica that exceeds its memory limit and says it was OOM killed', async () => {
      const r = await f.driver.createReplica(spec({ image: f.images.oom, memoryMib: 16, ports: [] }));
      await until('the replica to be OOM killed', async () => ((await phaseOf(r.id)) === 'exited' ? true : undefined));
      expect((await f.driver.inspectReplica(r.id))!.oomKilled).toBe(true);
    });

    it('refuses a host port that is taken with port_taken, naming it, and leaves nothing behind', async () => {
      const held = await f.holdHostPort();
      try {
        const s = spec({ ports: [{ port: f.port, protocol: 'http', hostPort: held.port }] });
        await expect(f.driver.createReplica(s)).rejects.toMatchObject({ reason: 'port_taken', message: expect.stringContaining(String(held.port)) });
        expect(await f.driver.listReplicas({ componentId: s.labels.componentId })).toEqual([]);
      } finally {
        await held.release();
      }
    });

    it('releases what it made for a tenant only once none of its replicas is left', async () => {
      const s = spec();
      const r = await f.driver.createReplica(s);
      expect(await f.driver.releaseTenant(s.labels.tenantId)).toBe(false);
      await f.driver.removeReplica(r.id, { graceMs: 0 });
      expect(await f.driver.releaseTenant(s.labels.tenantId)).toBe(true);
      // And a tenant can come back afterwards.
      expect((await f.driver.createReplica(s)).phase).toBe('running');
    });

    it('removes a replica (stopped first), and a missing one without error', async () => {
      const r = await f.driver.createReplica(spec());
      await f.driver.removeReplica(r.id, { graceMs: 1000 });
      expect(await f.driver.inspectReplica(r.id)).toBeUndefined();
      await f.driver.removeReplica(r.id);
    });

    it('keeps a stateful replica its volume across replacements, until the volumes are removed', async () => {
      const s = spec({ volumes: [{ name: 'data', mountPath: '/data', sizeMib: 10 }] });
      const a = await f.driver.createReplica(s);
      expect((await f.driver.exec(a.id, ['sh', '-c', 'echo kept > /data/file'], { timeoutMs: 5000 })).exitCode).toBe(0);
      await f.driver.removeReplica(a.id, { graceMs: 0 });
      const b = await f.driver.createReplica({ ...s, labels: { ...s.labels, template: 'def456', versionId: 'v2' } });
      expect((await f.driver.exec(b.id, ['cat', '/data/file'], { timeoutMs: 5000 })).output.trim()).toBe('kept');
      await f.driver.removeReplica(b.id, { graceMs: 0 });
      expect(await f.driver.removeVolumes({ componentId: s.labels.componentId })).toHaveLength(1);
      const c = await f.driver.createReplica(s);
      expect((await f.driver.exec(c.id, ['cat', '/data/file'], { timeoutMs: 5000 })).exitCode).not.toBe(0);
    });

    it('follows logs: the last lines, then new ones as they are written', async () => {
      const r = await f.driver.createReplica(spec({ image: f.images.chatty, ports: [] }));
      await until('a first line', async () => {
        for await (const l of f.driver.logs(r.id, { tail: 1, follow: false })) return l;
        return undefined;
      });
      const abort = new AbortController();
      const seen: string[] = [];
      const followed = (async () => {
        for await (const l of f.driver.logs(r.id, { tail: 1, follow: true, signal: abort.signal })) {
          seen.push(l.text);
          if (seen.length >= 3) abort.abort();
        }
      })();
      await until('three lines', async () => (seen.length >= 3 ? true : undefined));
      abort.abort();
      await followed;
      expect(seen[0]).toMatch(/^tick \d+$/);
      expect(new Set(seen).size).toBe(seen.length);
    });

    it('tells about replicas starting, dying and being removed', async () => {
      const events: ReplicaEvent[] = [];
      const stop = f.driver.watch((e) => events.push(e));
      try {
        await new Promise((r) => setTimeout(r, 200)); // the event stream is open
        const r = await f.driver.createReplica(spec({ image: f.images.crash }));
        await until('died', async () => (events.some((e) => e.id === r.id && e.kind === 'died') ? true : undefined));
        await f.driver.removeReplica(r.id, { graceMs: 0 });
        await until('removed', async () => (events.some((e) => e.id === r.id && e.kind === 'removed') ? true : undefined));
        expect(events.find((e) => e.id === r.id && e.kind === 'started')?.labels?.componentId).toBe(r.labels.componentId);
      } finally {
        stop();
      }
    });
  });
}
