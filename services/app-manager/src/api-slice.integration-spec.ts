import { buildTestImage, dockerClient, httpTestImage, startApiGateway, waitFor, type RunningApiGateway } from '@wharf/testing';
import { io } from 'socket.io-client';
import { answers, containersOf, recordVersion, startStack, type Stack } from '../test/harness';

/** A tiny JSON client over fetch. */
function api(base: string, token?: string) {
  return async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> };
  };
}

// The whole way: the REST API accepts a deploy, mq carries the task, app-manager runs the
// replicas, they answer HTTP, and the operation's final status comes back through the API.
describe('vertical slice: API deploy -> mq -> app-manager -> replicas -> final status', () => {
  let s: Stack;
  let gateway: RunningApiGateway;
  let call: ReturnType<typeof api>;
  const docker = dockerClient();
  const image = `wharf-test/am-${process.pid}-slice:1`;
  const ticker = `wharf-test/am-${process.pid}-ticker:1`;

  beforeAll(async () => {
    await httpTestImage(docker, image, 'hello through the api');
    s = await startStack('slice');
    gateway = await startApiGateway(s.etcd, s.mq.grpc, { WHARF_EVENTLOG_ADDR: s.eventLog.grpc });
    call = api(gateway.url, gateway.adminToken);
  }, 120_000);
  afterAll(async () => {
    await gateway?.stop();
    await s?.stop();
    for (const i of [image, ticker])
      await docker
        .getImage(i)
        .remove({ force: true })
        .catch(() => undefined);
  });

  it('deploys through the API; the replicas answer, get their secrets, and the operation succeeds', async () => {
    expect((await call('POST', '/api/v1/tenants', { name: 'acme' })).status).toBe(201);
    expect((await call('POST', '/api/v1/tenants/acme/apps', { name: 'shop' })).status).toBe(201);
    const created = await call('POST', '/api/v1/tenants/acme/apps/acme.shop/components', {
      name: 'api',
      source: { image },
      ports: [{ port: 8080, protocol: 'http' }],
      env: [
        { name: 'MODE', value: 'prod' },
        { name: 'DB_PASSWORD', value: 'hunter2-very-secret', secret: true },
      ],
      replicas: 2,
      cpu_millis: 200,
      memory_mib: 64,
      probe: { kind: 'http', path: '/', port: 8080, period_s: 1, failure_threshold: 3 },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    // Until the builder exists, the version is recorded as it would record it.
    await recordVersion(s, id, 'v1', image);
    const accepted = await call('POST', `/api/v1/tenants/acme/components/${id}/operations`, { kind: 'deploy', version_id: 'v1' });
    expect(accepted.status).toBe(202);
    const eventId = accepted.body.event_id as string;
    const op = await waitFor(
      'the operation to finish',
      async () => {
        const r = await call('GET', `/api/v1/tenants/acme/operations/${eventId}`);
        return r.body.status === 'success' || r.body.status === 'failure' ? r.body : undefined;
      },
      60_000,
      200,
    );
    expect(op).toMatchObject({ status: 'success', kind: 'deploy' });
    expect((op.steps as { name: string }[]).map((x) => x.name)).toEqual(['prepare', 'deploy']);
    expect(await answers(s, id)).toEqual(['hello through the api', 'hello through the api']);
    const component = await call('GET', `/api/v1/tenants/acme/components/${id}`);
    expect(component.body.current_version).toBe('v1');
    // What really runs, as app-manager reported it, through the API.
    const status = await waitFor('running status through the API', async () => {
      const r = await call('GET', `/api/v1/tenants/acme/components/${id}/status`);
      return r.body.state === 'running' ? r.body : undefined;
    });
    expect(status).toMatchObject({ version_id: 'v1', desired_replicas: 2, ready_replicas: 2, runtime: 'docker' });
    expect((status.replicas as { state: string; address: string }[]).map((r) => r.state)).toEqual(['ready', 'ready']);

    // The secret is opened into the container only: in its env, never in a label or a log.
    const [c] = await containersOf(s, id);
    const exec = await docker.getContainer(c.Id).inspect();
    expect(exec.Config.Env).toContain('DB_PASSWORD=hunter2-very-secret');
    expect(JSON.stringify(exec.Config.Labels)).not.toContain('hunter2');
    for (const am of s.appManagers) expect(am.process.output()).not.toContain('hunter2');
  });

  it("streams the replicas' own output over event-log's socket.io (logs.subscribe), from the Docker Engine", async () => {
    await buildTestImage(docker, ticker, { cmd: ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo "tick $i from $HOSTNAME"; sleep 0.2; done'] });
    const created = await call('POST', '/api/v1/tenants/acme/apps/acme.shop/components', { name: 'ticker', source: { image: ticker }, replicas: 2 });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    await recordVersion(s, id, 'v1', ticker);
    const accepted = await call('POST', `/api/v1/tenants/acme/components/${id}/operations`, { kind: 'deploy', version_id: 'v1' });
    expect(accepted.status).toBe(202);
    await waitFor(
      'ticker running',
      async () => ((await call('GET', `/api/v1/tenants/acme/components/${id}/status`)).body.ready_replicas === 2 ? true : undefined),
      60_000,
      200,
    );

    const socket = io(s.eventLog.url, { auth: { token: gateway.adminToken }, transports: ['websocket'], reconnection: false, forceNew: true });
    try {
      const lines: { replica: string; text: string; stream: string }[] = [];
      socket.on('logs', (m: { component_id: string; lines: typeof lines }) => lines.push(...m.lines));
      const ack = (await socket.timeout(10_000).emitWithAck('logs.subscribe', { component_id: id, tail: 10 })) as { ok: boolean };
      expect(ack).toEqual({ ok: true });
      const replicas = (await containersOf(s, id)).map((c) => c.Names[0].slice(1)).sort();
      // Every replica's own lines, by its name, as they come.
      await waitFor(
        'lines of both replicas',
        async () => (replicas.every((r) => lines.some((l) => l.replica === r && /^tick \d+ from /.test(l.text))) ? true : undefined),
        20_000,
        100,
      );
      expect(lines.every((l) => l.stream === 'stdout')).toBe(true);
      const unknown = (await socket.timeout(10_000).emitWithAck('logs.subscribe', { component_id: 'acme.shop.nothing', tail: 10 })) as {
        ok: boolean;
        error?: { code: string };
      };
      expect(unknown).toMatchObject({ ok: false, error: { code: 'not_found' } });
    } finally {
      socket.close();
    }
  });
});
