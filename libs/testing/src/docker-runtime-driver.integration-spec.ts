import { DockerDriver } from '@wharf/runtime';
import { createServer, type Server } from 'node:net';
import { buildTestImage, dockerClient, httpTestImage } from './docker';
import { runtimeDriverBehaviour, type DriverFixture } from './runtime-driver-behaviour';

// The Docker driver against the real engine, through the same behaviour suite as the fake.
// Everything carries this run's data-center label, so parallel runs never see each other.
const runId = `rd${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
const docker = dockerClient();

runtimeDriverBehaviour(
  'docker',
  async (): Promise<DriverFixture> => {
    const tag = (name: string) => `wharf-test/${runId}-${name}:1`;
    await httpTestImage(docker, tag('http'), 'hello from docker', 8080);
    await buildTestImage(docker, tag('crash'), { cmd: ['sh', '-c', 'echo boom; exit 3'] });
    // Doubles a shell string until the memory limit stops it.
    await buildTestImage(docker, tag('oom'), { cmd: ['sh', '-c', 'a=xxxxxxxxxxxxxxxx; while true; do a="$a$a"; done'] });
    await buildTestImage(docker, tag('chatty'), { cmd: ['sh', '-c', 'i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 0.1; done'] });
    return {
      driver: new DockerDriver({ docker, dataCenter: runId, namePrefix: `w${runId}` }),
      other: new DockerDriver({ docker, dataCenter: `${runId}-b`, namePrefix: `x${runId}` }),
      images: { http: tag('http'), crash: tag('crash'), oom: tag('oom'), chatty: tag('chatty') },
      port: 8080,
      runId,
      async holdHostPort() {
        const server: Server = createServer();
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        const port = (server.address() as { port: number }).port;
        return { port, release: () => new Promise<void>((resolve) => server.close(() => resolve())) };
      },
    };
  },
  async (f) => {
    for (const dc of [f.driver.dataCenter, f.other.dataCenter]) {
      for (const n of await docker.listNetworks({ filters: { label: [`wharf/data-center=${dc}`] } })) await docker.getNetwork(n.Id).remove();
    }
    for (const name of ['http', 'crash', 'oom', 'chatty']) await docker.getImage(`wharf-test/${runId}-${name}:1`).remove({ force: true });
  },
);

describe('DockerDriver: one network per tenant', () => {
  const dc = `${runId}-n`;
  const driver = new DockerDriver({ docker, dataCenter: dc, namePrefix: `n${runId}` });
  const image = `wharf-test/${runId}-net:1`;
  const spec = (tenant: string, component: string) => ({
    labels: {
      dataCenter: dc,
      tenantId: tenant,
      appId: `${tenant}.shop`,
      componentId: `${tenant}.shop.${component}`,
      versionId: 'v1',
      slot: 1,
      template: 'aaa',
      restarts: 0,
    },
    names: { tenant, app: 'shop', component },
    image,
    env: [],
    cpuMillis: 0,
    memoryMib: 0,
    ports: [{ port: 8080, protocol: 'http' as const }],
    volumes: [],
    aliases: [`${component}.shop`],
    stopGraceMs: 0,
  });
  // busybox-static's wget crashes in these containers; nc speaks enough HTTP.
  const fetchFrom = async (id: string, host: string) =>
    (await driver.exec(id, ['sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${host} 8080`], { timeoutMs: 8000 })).output;

  beforeAll(() => httpTestImage(docker, image, 'tenant page', 8080));
  afterAll(async () => {
    for (const r of await driver.listReplicas()) await driver.removeReplica(r.id, { graceMs: 0 });
    for (const n of await docker.listNetworks({ filters: { label: [`wharf/data-center=${dc}`] } })) await docker.getNetwork(n.Id).remove();
    await docker.getImage(image).remove({ force: true });
  });

  it("lets a tenant's replicas reach each other by name, and never another tenant's", async () => {
    const a = `${runId}a`;
    const b = `${runId}b`;
    const aWeb = await driver.createReplica(spec(a, 'web'));
    const aApi = await driver.createReplica(spec(a, 'api'));
    const bApi = await driver.createReplica(spec(b, 'api'));
    expect(aApi.address).not.toBe(bApi.address);
    expect(await fetchFrom(aWeb.id, 'api.shop')).toContain('tenant page');
    expect(await fetchFrom(aWeb.id, aApi.address)).toContain('tenant page');
    // Tenant b's replica: not by its address, and its name resolves to tenant a's own api only.
    expect(await fetchFrom(aWeb.id, bApi.address)).not.toContain('tenant page');
    const bName = (await driver.inspectReplica(bApi.id))!.name;
    expect(await fetchFrom(aWeb.id, bName)).not.toContain('tenant page');
    expect(await driver.releaseTenant(a)).toBe(false); // still in use
  });
});
