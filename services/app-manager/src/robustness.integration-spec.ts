import { buildTestImage, dockerClient, dockerSocket, httpTestImage, startSocketProxy, waitFor, type SocketProxy } from '@wharf/testing';
import { answers, containersOf, createComponent, enqueue, finalStatus, startStack, type SpecInit, type Stack } from '../test/harness';

const docker = dockerClient();
const tag = (name: string) => `wharf-test/am-${process.pid}-robust-${name}:1`;
const spec: SpecInit = {
  replicas: 3,
  ports: [{ port: 8080, protocol: 'http' }],
  probe: { kind: 'http', path: '/', port: 8080, periodS: 1, failureThreshold: 5 },
};

beforeAll(async () => {
  await httpTestImage(docker, tag('v1'), 'version one');
  // Takes a while to listen, so a rollout of three lasts long enough to be interrupted.
  await buildTestImage(docker, tag('v2'), { files: { 'www/index.html': 'version two' }, cmd: ['sh', '-c', 'sleep 2; exec httpd -f -p 8080 -h /www'] });
}, 60_000);
afterAll(async () => {
  for (const v of ['v1', 'v2'])
    await docker
      .getImage(tag(v))
      .remove({ force: true })
      .catch(() => undefined);
});

/** Slots and versions of a component's containers, e.g. ["1:v2", "2:v2", "3:v2"]. */
async function replicas(s: Stack, id: string): Promise<string[]> {
  return (await containersOf(s, id)).map((c) => `${c.Labels['wharf/replica']}:${c.Labels['wharf/version']}`).sort();
}

async function deployed(s: Stack, name: string, replicas = 3): Promise<string> {
  const id = await createComponent(s, { tenant: 'acme', name }, { ...spec, replicas }, [
    { id: 'v1', image: tag('v1') },
    { id: 'v2', image: tag('v2') },
  ]);
  expect((await finalStatus(s, await enqueue(s, 'deploy', id, { versionId: 'v1' }))).status).toBe('success');
  return id;
}

describe('app-manager killed with SIGKILL in the middle of a rolling upgrade', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack('kill9');
  }, 60_000);
  afterAll(() => s?.stop());

  it('finishes the upgrade after its restart: a final status, no replica leaked or doubled', async () => {
    const id = await deployed(s, 'web');
    const eventId = await enqueue(s, 'upgrade', id, { versionId: 'v2' });
    await waitFor('the first new replica', async () => ((await replicas(s, id)).some((r) => r.endsWith(':v2')) ? true : undefined), 30_000);
    await s.appManagers[0].stop('SIGKILL');
    const midway = await replicas(s, id);
    expect(midway.some((r) => r.endsWith(':v1'))).toBe(true); // really interrupted halfway
    await s.startAppManager();
    const final = await finalStatus(s, eventId, 90_000);
    expect(final.status).toBe('success');
    const after = await waitFor('the old replicas gone', async () => {
      const now = await replicas(s, id);
      return now.every((r) => r.endsWith(':v2')) ? now : undefined;
    });
    expect(after).toHaveLength(3);
    expect(new Set(after.map((r) => r.split(':')[0])).size).toBe(3);
    expect(after.every((r) => r.endsWith(':v2'))).toBe(true);
    expect(await answers(s, id)).toEqual(['version two', 'version two', 'version two']);
    const applied = (await s.store.read(`component/${id}`)).filter((e) => e.eventId === eventId && e.type === 'wharf.events.v1.OperationApplied');
    expect(applied).toHaveLength(1);
  });
});

describe('the Docker Engine going away mid-task (a proxy in front of the shared engine, cut and restored)', () => {
  let s: Stack;
  let proxy: SocketProxy;
  beforeAll(async () => {
    proxy = await startSocketProxy(dockerSocket());
    s = await startStack('engine', { WHARF_DOCKER_SOCKET: proxy.path });
  }, 60_000);
  afterAll(async () => {
    await s?.stop();
    await proxy?.close();
  });

  it('retries while the engine is away and ends with a final status', async () => {
    const id = await deployed(s, 'web', 2);
    const eventId = await enqueue(s, 'upgrade', id, { versionId: 'v2' });
    await waitFor('the first new replica', async () => ((await replicas(s, id)).some((r) => r.endsWith(':v2')) ? true : undefined), 30_000);
    await proxy.cut();
    const am = s.appManagers[0];
    await waitFor('app-manager to notice', async () => ((await fetch(`${am.url}/readyz`)).status === 503 ? true : undefined), 15_000);
    await new Promise((r) => setTimeout(r, 3000));
    await proxy.restore();
    const final = await finalStatus(s, eventId, 90_000);
    expect(final.status).toBe('success');
    const after = await waitFor('the old replicas gone', async () => {
      const now = await replicas(s, id);
      return now.every((r) => r.endsWith(':v2')) ? now : undefined;
    });
    expect(after).toHaveLength(2);
    expect(after.every((r) => r.endsWith(':v2'))).toBe(true);
    expect(await answers(s, id)).toEqual(['version two', 'version two']);
    expect(final.lines.join('\n')).toMatch(/unreachable|unavailable/i);
  });
});

describe('two app-manager instances on the same queue', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack('pair');
    await s.startAppManager();
  }, 60_000);
  afterAll(() => s?.stop());

  it('share the components, act on each one alone, and take over when one dies', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++)
      ids.push(await createComponent(s, { tenant: 'acme', name: `c${i}` }, { ...spec, replicas: 2 }, [{ id: 'v1', image: tag('v1') }]));
    const owners = async () =>
      Object.values(await s.client.getAll().prefix(s.keys.appmgr.slotPrefix()).strings()).map((v) => (JSON.parse(v) as { instance: string }).instance);
    await waitFor('both instances to own slots', async () => (new Set(await owners()).size === 2 ? true : undefined), 20_000);
    const events = await Promise.all(ids.map((id) => enqueue(s, 'deploy', id)));
    // While they deploy, no component ever has more replicas than surge allows (nobody doubles the work).
    let most = 0;
    const watching = (async () => {
      for (let i = 0; i < 100; i++) {
        for (const id of ids) most = Math.max(most, (await containersOf(s, id)).length);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    for (const e of events) expect(await finalStatus(s, e)).toMatchObject({ status: 'success', message: '' });
    await watching;
    expect(most).toBeLessThanOrEqual(2);
    for (const id of ids) expect(await answers(s, id)).toEqual(['version one', 'version one']);
    for (const id of ids) {
      const accepted = (await s.store.read(`component/${id}`)).filter((e) => e.type === 'wharf.events.v1.RolloutStarted');
      expect(accepted).toHaveLength(1);
    }

    // The first instance dies; the replicas of every component keep being looked after.
    await s.appManagers[0].stop('SIGKILL');
    const survivor = s.appManagers[1].instance;
    await waitFor(
      'the survivor to own every slot',
      async () => ((await owners()).length === 16 && (await owners()).every((o) => o === survivor) ? true : undefined),
      30_000,
    );
    for (const id of ids) {
      const [c] = await containersOf(s, id);
      await docker.getContainer(c.Id).remove({ force: true });
    }
    for (const id of ids)
      await waitFor(`${id} healed`, async () => ((await answers(s, id)).filter((a) => a === 'version one').length === 2 ? true : undefined), 30_000);
  });
});
