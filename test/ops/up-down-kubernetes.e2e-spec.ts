import { dockerClient, httpTestImage, waitFor } from '@wharf/testing';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { alive, runScript, upEnvironment } from './scripts';

const exec = promisify(execFile);

function get(host: string, port: number, hostHeader?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request({ host, port, path: '/', timeout: 2000, headers: { connection: 'close', ...(hostHeader ? { host: hostHeader } : {}) } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.end();
  });
}

// `npm run up -- --runtime kubernetes` as a user runs it: bad values refused before anything
// starts; then a data center whose app-manager runs components on a one-node Kubernetes cluster
// that `up` started, an image pushed to the data center's registry built (pulled, pushed) by the
// builder and deployed through the API, its pod answering HTTP (straight and through the gateway);
// `npm run down` leaves no process, network namespace or temp dir of the cluster behind.
describe('npm run up -- --runtime kubernetes / npm run down', () => {
  const state = mkdtempSync(join(tmpdir(), 'wharf-up-k8s-'));
  const docker = dockerClient();
  const local = `wharf-test/updown-k8s-${process.pid}:1`;
  let env: NodeJS.ProcessEnv;
  let downDone = false;

  beforeAll(async () => {
    env = await upEnvironment(state, `updownk8s-${process.pid}`);
  });
  afterAll(async () => {
    if (!downDone) await runScript('down.sh', [], env);
    rmSync(state, { recursive: true, force: true });
    await docker
      .getImage(local)
      .remove({ force: true })
      .catch(() => undefined);
  }, 300_000);

  it('refuses an unknown runtime, a missing kubeconfig and --kubeconfig with docker, starting nothing', async () => {
    const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
      [['--runtime', 'nomad'], {}, /runtime 'nomad' \(--runtime or WHARF_RUNTIME\): unknown; expected docker or kubernetes/],
      [[], { WHARF_RUNTIME: 'swarm' }, /runtime 'swarm'.*unknown/],
      [['--runtime', 'kubernetes', '--kubeconfig', '/nonexistent/kubeconfig'], {}, /kubeconfig \/nonexistent\/kubeconfig .*no such readable, non-empty file/],
      [['--runtime', 'kubernetes'], { WHARF_KUBECONFIG: join(state, 'missing') }, /kubeconfig .*missing .*no such readable/],
      [['--kubeconfig', '/etc/hostname'], {}, /--kubeconfig is for --runtime kubernetes/],
      [['--runtime'], {}, /--runtime needs a value/],
      [['--bogus'], {}, /unknown argument '--bogus'/],
    ];
    for (const [args, extra, message] of cases) {
      const r = await runScript('up.sh', args, { ...env, ...extra });
      expect({ args, extra, code: r.code, out: r.out.trim() }).toEqual({ args, extra, code: 2, out: expect.stringMatching(message) });
    }
    expect(existsSync(join(state, 'run'))).toBe(false);
  });

  it('runs a component built by the builder on the cluster it started, then stops all of it', async () => {
    const up = await runScript('up.sh', ['--runtime', 'kubernetes'], env);
    if (up.code !== 0) throw new Error(`npm run up -- --runtime kubernetes failed (${up.code}):\n${up.out.slice(-4000)}`);
    expect(up.out).toMatch(/Wharf data center is up/);
    const kubeconfig = join(state, 'kubernetes', 'kubeconfig');
    expect(up.out).toContain(`kubeconfig  ${kubeconfig}`);
    expect(up.out).toMatch(/kubectl     \S+\/kubectl --kubeconfig \S+ get pods -A/);
    const token = /admin token (\S+)/.exec(up.out)?.[1];
    expect(token).toMatch(/^wharf_/);
    const record = JSON.parse(readFileSync(join(state, 'kubernetes', 'cluster.json'), 'utf8')) as {
      netns: string;
      binDir: string;
      dirs: string[];
      mountNamespaces: string[];
      processes: { pid: number }[];
    };
    // Every process in the node's mount namespace: containerd, kubelet, shims and the containers' own.
    const inNodes = () =>
      readdirSync('/proc')
        .filter((e) => /^\d+$/.test(e))
        .filter((e) => {
          try {
            return record.mountNamespaces.includes(readlinkSync(`/proc/${e}/ns/mnt`));
          } catch {
            return false;
          }
        });
    const kubectl = async (...args: string[]) =>
      (await exec(join(record.binDir, 'kubectl'), ['--kubeconfig', kubeconfig, ...args], { timeout: 60_000 })).stdout;
    expect(await kubectl('get', 'nodes', '-o', 'name')).toBe('node/node-1\n');

    // An image in the data center's registry, as a user's CI would push it.
    const registry = `127.0.0.1:${env.WHARF_REGISTRY_PORT}`;
    const [username, password] = readFileSync(join(state, 'registry', 'credentials'), 'utf8')
      .trim()
      .split(':');
    await httpTestImage(docker, local, 'hello from kubernetes');
    const pushed = `${registry}/wharf-test/updown-web`;
    await docker.getImage(local).tag({ repo: pushed, tag: '1' });
    const stream = await docker.getImage(`${pushed}:1`).push({ authconfig: { username, password, serveraddress: registry } });
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(stream, (err: Error | null, out: { error?: string }[]) => {
        const failed = err?.message ?? out.find((o) => o.error)?.error;
        if (failed) reject(new Error(`push ${pushed}:1: ${failed}`));
        else resolve();
      }),
    );
    await docker.getImage(`${pushed}:1`).remove();

    const api = `http://127.0.0.1:${env.WHARF_API_PORT}/api/v1`;
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${api}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
    };
    expect((await call('POST', '/tenants', { name: 'acme' })).status).toBe(201);
    expect((await call('POST', '/tenants/acme/apps', { name: 'shop' })).status).toBe(201);
    const created = await call('POST', '/tenants/acme/apps/acme.shop/components', {
      name: 'web',
      source: { image: `${pushed}:1` },
      ports: [{ port: 8080, protocol: 'http', public: true }],
      cpu_millis: 100,
      memory_mib: 32,
      probe: { kind: 'http', path: '/', port: 8080, period_s: 1, failure_threshold: 3 },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const accepted = await call('POST', `/tenants/acme/components/${id}/operations`, { kind: 'build', deploy_after: true });
    expect(accepted.status).toBe(202);
    const eventId = accepted.body.event_id as string;
    const op = await waitFor(
      'the build and deploy to end',
      async () => {
        const o = (await call('GET', `/tenants/acme/operations/${eventId}`)).body;
        return o.status === 'success' || o.status === 'failure' || o.status === 'timeout' ? o : undefined;
      },
      240_000,
      500,
    );
    expect({ status: op.status, message: op.message }).toEqual({ status: 'success', message: op.message });

    // The pod runs the image the builder pushed, pulled by the node from the data center's registry.
    const pods = JSON.parse(await kubectl('get', 'pods', '-n', 'wharf-acme', '-o', 'json')) as {
      items: { status: { podIP?: string; phase: string }; spec: { containers: { image: string }[] } }[];
    };
    expect(pods.items).toHaveLength(1);
    expect(pods.items[0].spec.containers[0].image).toMatch(new RegExp(`^${registry.replace(/\./g, '\\.')}/`));
    const answer = await waitFor('the pod to answer', async () => {
      const r = await get(pods.items[0].status.podIP!, 8080);
      return r.status === 200 ? r : undefined;
    });
    expect(answer.body).toBe('hello from kubernetes');
    // And through the gateway, from the endpoints app-manager publishes out of the cluster.
    const viaGateway = await waitFor(
      'the gateway to route to the pod',
      async () => {
        const r = await get('127.0.0.1', Number(env.WHARF_LB_HTTP_PORT), 'web.shop.acme.localhost');
        return r.status === 200 ? r : undefined;
      },
      30_000,
    );
    expect(viaGateway.body).toBe('hello from kubernetes');

    const pids = [
      ...readdirSync(join(state, 'run'))
        .filter((f) => f.endsWith('.pid'))
        .map((f) => ({ name: f, pid: Number(readFileSync(join(state, 'run', f), 'utf8').trim()) })),
      ...record.processes.map((p) => ({ name: 'cluster', pid: p.pid })),
    ];
    expect(pids.map((p) => p.name)).toEqual(expect.arrayContaining(['kubernetes.pid', 'app-manager.pid', 'event-log.pid']));
    for (const p of pids) expect({ ...p, alive: alive(p.pid) }).toEqual({ ...p, alive: true });
    expect(existsSync(`/run/netns/${record.netns}`)).toBe(true);
    expect(inNodes().length).toBeGreaterThan(3);

    const down = await runScript('down.sh', [], env);
    downDone = true;
    expect(down.code).toBe(0);
    expect(down.out).toMatch(/stopped kubernetes/);
    for (const p of pids) expect({ ...p, alive: alive(p.pid) }).toEqual({ ...p, alive: false });
    expect(inNodes()).toEqual([]);
    expect(existsSync(`/run/netns/${record.netns}`)).toBe(false);
    for (const d of record.dirs) expect({ dir: d, exists: existsSync(d) }).toEqual({ dir: d, exists: false });
    // A clean stop leaves no record for `cleanup` to act on.
    expect(existsSync(join(state, 'kubernetes', 'cluster.json'))).toBe(false);
  }, 900_000);
});
