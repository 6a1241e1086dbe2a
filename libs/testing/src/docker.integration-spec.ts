import { buildTestImage, dockerClient, followProgress, httpTestImage, startRegistry, type RegistryInstance } from './index';

// The harness itself against the real Docker Engine and a real registry.
describe('docker harness', () => {
  const docker = dockerClient();
  const tag = `wharf-test/harness-${process.pid}:1`;
  let registry: RegistryInstance;

  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => {
    await docker
      .getImage(tag)
      .remove({ force: true })
      .catch(() => undefined);
    await registry?.destroy();
  });

  it('builds a busybox image offline and runs it', async () => {
    await buildTestImage(docker, tag, { cmd: ['sh', '-c', 'echo hello from $WHO'], env: { WHO: 'busybox' } });
    const container = await docker.createContainer({ Image: tag });
    await container.start();
    await container.wait();
    const logs = (await container.logs({ stdout: true, stderr: true })).toString();
    await container.remove();
    expect(logs).toContain('hello from busybox');
  });

  it('serves HTTP from the http test image on a loopback port', async () => {
    const httpTag = `wharf-test/harness-http-${process.pid}:1`;
    await httpTestImage(docker, httpTag, 'it works');
    const container = await docker.createContainer({
      Image: httpTag,
      HostConfig: { PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } },
      ExposedPorts: { '8080/tcp': {} },
    });
    try {
      await container.start();
      const info = await container.inspect();
      const port = info.NetworkSettings.Ports['8080/tcp'][0].HostPort;
      let body = '';
      for (let i = 0; i < 50 && body !== 'it works'; i++) {
        body = await fetch(`http://127.0.0.1:${port}/`).then(
          (r) => r.text(),
          () => '',
        );
        if (body !== 'it works') await new Promise((r) => setTimeout(r, 100));
      }
      expect(body).toBe('it works');
    } finally {
      await container.remove({ force: true });
      await docker.getImage(httpTag).remove({ force: true });
    }
  });

  it('pushes to the registry with its credentials and refuses wrong ones', async () => {
    const remote = `${registry.address}/harness/app`;
    await docker.getImage(tag).tag({ repo: remote, tag: 'v1' });
    const image = docker.getImage(`${remote}:v1`);
    await followProgress(
      docker,
      await image.push({ authconfig: { username: registry.username, password: registry.password, serveraddress: registry.address } }),
    );
    const res = await fetch(`http://${registry.address}/v2/harness/app/tags/list`, {
      headers: { authorization: `Basic ${Buffer.from(`${registry.username}:${registry.password}`).toString('base64')}` },
    });
    expect(await res.json()).toEqual({ name: 'harness/app', tags: ['v1'] });
    await expect(
      followProgress(docker, await image.push({ authconfig: { username: registry.username, password: 'wrong', serveraddress: registry.address } })),
    ).rejects.toThrow(/unauthorized|authentication required|no basic auth/i);
    await image.remove();
  });
});
