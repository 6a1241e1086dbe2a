import { waitFor } from '@wharf/testing';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alive, runScript, upEnvironment } from './scripts';

const run = (script: string, env: NodeJS.ProcessEnv) => runScript(script, [], env);

// The README's `npm run up` and `npm run down`, as a user runs them, on a state directory and
// ports of its own: every service it starts becomes ready, the printed admin token works, and
// down stops every process up recorded.
describe('npm run up / npm run down', () => {
  const state = mkdtempSync(join(tmpdir(), 'wharf-up-'));
  let env: NodeJS.ProcessEnv;
  let downDone = false;

  beforeAll(async () => {
    env = await upEnvironment(state, `updown-${process.pid}`);
  });
  afterAll(async () => {
    if (!downDone) await run('down.sh', env);
    rmSync(state, { recursive: true, force: true });
  });

  it('starts a data center whose services are ready and whose admin token works, then stops all of it', async () => {
    const up = await run('up.sh', env);
    if (up.code !== 0) throw new Error(`npm run up failed (${up.code}):\n${up.out.slice(-4000)}`);
    expect(up.out).toMatch(/Wharf data center is up/);
    // Plain `up` is the Docker runtime: no cluster, no kubeconfig.
    expect(up.out).not.toMatch(/kubeconfig/);
    const token = /admin token (\S+)/.exec(up.out)?.[1];
    expect(token).toMatch(/^wharf_/);

    for (const [name, port] of [
      ['mq', env.WHARF_MQ_HTTP_PORT],
      ['event-log', env.WHARF_EVENTLOG_HTTP_PORT],
      ['api-gateway', env.WHARF_API_PORT],
      ['app-manager', env.WHARF_APPMGR_HTTP_PORT],
      ['builder', env.WHARF_BUILDER_HTTP_PORT],
      ['node-manager', env.WHARF_NODEMGR_HTTP_PORT],
      ['lb-manager', env.WHARF_LB_ADMIN_PORT],
      ['console', env.WHARF_CONSOLE_PORT],
    ]) {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect({ name, status: res.status }).toEqual({ name, status: 200 });
    }
    const api = `http://127.0.0.1:${env.WHARF_API_PORT}/api/v1`;
    const created = await fetch(`${api}/tenants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'acme' }),
    });
    expect(created.status).toBe(201);
    // The machine is the data center's one node: registered by node-manager, READY once its init checks pass.
    const node = await waitFor('the node READY', async () => {
      const r = await fetch(`${api}/nodes`, { headers: { authorization: `Bearer ${token}` } });
      const items = ((await r.json()) as { items: { state: string; roles: string[] }[] }).items;
      return items.length === 1 && items[0].state === 'READY' ? items[0] : undefined;
    });
    expect(node.roles).toContain('compute');
    expect((await fetch(`${api}/tenants`, { headers: { authorization: 'Bearer wharf_nope_nope' } })).status).toBe(401);
    // The gateway answers (no route for this host yet).
    expect((await fetch(`http://127.0.0.1:${env.WHARF_LB_HTTP_PORT}/`)).status).toBe(404);

    const pids = readdirSync(join(state, 'run'))
      .filter((f) => f.endsWith('.pid'))
      .map((f) => ({ name: f, pid: Number(readFileSync(join(state, 'run', f), 'utf8').trim()) }));
    expect(pids.map((p) => p.name)).toEqual(
      expect.arrayContaining([
        'etcd.pid',
        'mq.pid',
        'event-log.pid',
        'api-gateway.pid',
        'app-manager.pid',
        'builder.pid',
        'node-manager.pid',
        'lb-manager.pid',
        'console.pid',
        'registry.pid',
      ]),
    );
    // lb-manager's nginx masters (its data plane) live under the state dir too; down must leave none.
    for (const instance of ['http', 'stream'])
      pids.push({ name: `lb/${instance}/nginx.pid`, pid: Number(readFileSync(join(state, 'lb', instance, 'run', 'nginx.pid'), 'utf8').trim()) });
    for (const p of pids) expect({ ...p, alive: alive(p.pid) }).toEqual({ ...p, alive: true });

    const down = await run('down.sh', env);
    downDone = true;
    expect(down.code).toBe(0);
    for (const p of pids) expect({ ...p, alive: alive(p.pid) }).toEqual({ ...p, alive: false });
  }, 600_000);
});
