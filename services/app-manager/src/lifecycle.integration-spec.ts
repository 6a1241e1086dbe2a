import { dockerClient, httpTestImage, waitFor } from '@wharf/testing';
import { answers, containersOf, createComponent, endpointsOf, enqueue, finalStatus, recordVersion, startStack, statusOf, type Stack } from '../test/harness';

// app-manager as a real process against real etcd, mq, event-log and the Docker Engine: tasks
// in, replicas answering HTTP out, every operation ending with a final status in event-log.
describe('app-manager lifecycle on the Docker Engine', () => {
  let s: Stack;
  const docker = dockerClient();
  const image = (v: string) => `wharf-test/am-${process.pid}-web:${v}`;
  const http = { ports: [{ port: 8080, protocol: 'http' }], probe: { kind: 'http', path: '/', port: 8080, periodS: 1, failureThreshold: 2 } };

  beforeAll(async () => {
    await httpTestImage(docker, image('1'), 'version one');
    await httpTestImage(docker, image('2'), 'version two');
    s = await startStack('life');
  }, 120_000);
  afterAll(async () => {
    await s?.stop();
    for (const v of ['1', '2'])
      await docker
        .getImage(image(v))
        .remove({ force: true })
        .catch(() => undefined);
  });

  it('deploys a version to N replicas that answer HTTP, with a timeline and a status', async () => {
    const id = await createComponent(s, { tenant: 'acme', name: 'web' }, { ...http, replicas: 2 }, [{ id: 'v1', image: image('1') }]);
    const eventId = await enqueue(s, 'deploy', id);
    const final = await finalStatus(s, eventId);
    expect(final).toMatchObject({ status: 'success' });
    expect(final.lines.join('\n')).toMatch(/creating replica 1\/2 of v1/);
    expect(final.lines.join('\n')).toMatch(/is ready: its probe passed/);
    expect(await answers(s, id)).toEqual(['version one', 'version one']);
    const containers = await containersOf(s, id);
    expect(containers.map((c) => c.Names[0]).sort()).toEqual([`/${s.prefix}-acme-shop-web-1`, `/${s.prefix}-acme-shop-web-2`]);
    const status = await waitFor('running status', async () => ((await statusOf(s, id))?.state === 'running' ? statusOf(s, id) : undefined));
    expect(status).toMatchObject({ versionId: 'v1', desiredReplicas: 2, readyReplicas: 2, runtime: 'docker' });
    expect(status!.replicas.map((r) => r.state)).toEqual(['ready', 'ready']);
  });

  it('rolls an upgrade through, health-gated, and rolls back through the same path', async () => {
    const id = 'acme.shop.web';
    await recordVersion(s, id, 'v2', image('2'));
    const up = await finalStatus(s, await enqueue(s, 'upgrade', id, { versionId: 'v2' }));
    expect(up.status).toBe('success');
    expect(up.lines.join('\n')).toMatch(/retiring .*\(v1\)/);
    expect(await answers(s, id)).toEqual(['version two', 'version two']);
    // The operation is done once the old replicas are out of the endpoints; their containers go right after.
    await waitFor('only v2 containers', async () => ((await containersOf(s, id)).every((c) => c.Labels['wharf/version'] === 'v2') ? true : undefined));
    const back = await finalStatus(s, await enqueue(s, 'rollback', id, { versionId: 'v1' }));
    expect(back.status).toBe('success');
    expect(await answers(s, id)).toEqual(['version one', 'version one']);
  });

  it('scales to 0 and back, stops and starts', async () => {
    const id = 'acme.shop.web';
    expect((await finalStatus(s, await enqueue(s, 'scale', id, { replicas: 3 }))).status).toBe('success');
    expect(await answers(s, id)).toHaveLength(3);
    expect((await finalStatus(s, await enqueue(s, 'scale', id, { replicas: 0 }))).status).toBe('success');
    expect(await containersOf(s, id)).toHaveLength(0);
    expect((await endpointsOf(s, id))?.endpoints).toEqual([]);
    expect((await finalStatus(s, await enqueue(s, 'scale', id, { replicas: 1 }))).status).toBe('success');
    expect((await finalStatus(s, await enqueue(s, 'stop', id))).status).toBe('success');
    expect(await containersOf(s, id)).toHaveLength(0);
    expect((await statusOf(s, id))?.state).toBe('stopped');
    expect((await finalStatus(s, await enqueue(s, 'start', id))).status).toBe('success');
    expect(await answers(s, id)).toEqual(['version one']);
  });

  it('replaces a replica removed behind its back', async () => {
    const id = 'acme.shop.web';
    const [c] = await containersOf(s, id);
    await docker.getContainer(c.Id).remove({ force: true });
    await waitFor('a new replica', async () => {
      const now = await containersOf(s, id);
      return now.length === 1 && now[0].Id !== c.Id && now[0].State === 'running' ? true : undefined;
    });
    await waitFor('it answers', async () => ((await answers(s, id)).join() === 'version one' ? true : undefined));
  });

  it('deletes a component: containers, endpoints and volumes go; its history stays', async () => {
    const id = await createComponent(s, { tenant: 'acme', name: 'db' }, { ...http, volumes: [{ name: 'data', mountPath: '/data', sizeMib: 10 }] }, [
      { id: 'v1', image: image('1') },
    ]);
    expect((await finalStatus(s, await enqueue(s, 'deploy', id))).status).toBe('success');
    const volumes = async () =>
      (await docker.listVolumes({ filters: { label: [`wharf/data-center=${s.dataCenter}`, `wharf/component=${id}`] } })).Volumes ?? [];
    expect(await volumes()).toHaveLength(1);
    expect((await finalStatus(s, await enqueue(s, 'delete', id))).status).toBe('success');
    expect(await containersOf(s, id)).toHaveLength(0);
    expect(await volumes()).toHaveLength(0);
    expect(await endpointsOf(s, id)).toBeUndefined();
    expect((await s.store.read(`component/${id}`)).map((e) => e.type)).toContain('wharf.events.v1.ComponentRetired');
  });
});
