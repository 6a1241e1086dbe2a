import { dockerClient, httpTestImage } from '@wharf/testing';
import { appManagerBehaviour } from '../test/behaviour';
import { containersOf, createComponent, endpointsOf, enqueue, finalStatus, startStack, type Stack } from '../test/harness';
import { dockerRuntime } from '../test/runtime-fixture';

// app-manager's behaviour suite on the machine's Docker Engine (the same suite runs on
// Kubernetes in kubernetes.integration-spec.ts), then what only the Docker runtime has.
appManagerBehaviour(dockerRuntime());

describe('app-manager on the Docker Engine: containers and volumes', () => {
  let s: Stack;
  const docker = dockerClient();
  const image = `wharf-test/am-${process.pid}-docker-db:1`;
  const http = { ports: [{ port: 8080, protocol: 'http' }], probe: { kind: 'http', path: '/', port: 8080, periodS: 1, failureThreshold: 2 } };

  beforeAll(async () => {
    await httpTestImage(docker, image, 'version one');
    s = await startStack('life');
  }, 120_000);
  afterAll(async () => {
    await s?.stop();
    await docker
      .getImage(image)
      .remove({ force: true })
      .catch(() => undefined);
  });

  it('names containers after the component and removes its volumes with it', async () => {
    const id = await createComponent(
      s,
      { tenant: 'acme', name: 'db' },
      { ...http, replicas: 2, volumes: [{ name: 'data', mountPath: '/data', sizeMib: 10 }] },
      [{ id: 'v1', image }],
    );
    expect((await finalStatus(s, await enqueue(s, 'deploy', id))).status).toBe('success');
    expect((await containersOf(s, id)).map((c) => c.Names[0]).sort()).toEqual([`/${s.prefix}-acme-shop-db-1`, `/${s.prefix}-acme-shop-db-2`]);
    const volumes = async () =>
      (await docker.listVolumes({ filters: { label: [`wharf/data-center=${s.dataCenter}`, `wharf/component=${id}`] } })).Volumes ?? [];
    expect(await volumes()).toHaveLength(2);
    expect((await finalStatus(s, await enqueue(s, 'delete', id))).status).toBe('success');
    expect(await containersOf(s, id)).toHaveLength(0);
    expect(await volumes()).toHaveLength(0);
    expect(await endpointsOf(s, id)).toBeUndefined();
  });
});
