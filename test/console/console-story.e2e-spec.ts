import { LABEL } from '@wharf/runtime';
import { dockerClient, freePort, launchChromium, startGitDaemon, waitFor, type GitDaemon } from '@wharf/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The user's day through the console against a whole data center started by `npm run up`
 * (its own state dir and ports, its own data-center name, so it sits beside a running one):
 * up prints the console's URL and first user; the CLI signs in to the console, adds the local
 * data center, makes an app and a component there and lists them across data centers; then,
 * with the real builder, app-manager and lb-manager: a component from a git repository built
 * with its log live, answered through the gateway's nginx by its host, a new commit deployed
 * and rolled back, an env change rolled into the replica, scaled to 3 with `logs -f` showing
 * the requests of all three, a broken build exiting non-zero with its reason; the operator
 * lists the data center's node and cordons it; the web UI served by that console signs in and
 * shows the app; `npm run down` stops every process up started, by pid.
 */
const ROOT = join(__dirname, '..', '..');
const PORTS = [
  'ETCD_PORT',
  'ETCD_PEER_PORT',
  'MQ_GRPC_PORT',
  'MQ_HTTP_PORT',
  'API_PORT',
  'EVENTLOG_GRPC_PORT',
  'EVENTLOG_HTTP_PORT',
  'REGISTRY_PORT',
  'APPMGR_GRPC_PORT',
  'APPMGR_HTTP_PORT',
  'LB_HTTP_PORT',
  'LB_HTTPS_PORT',
  'LB_ADMIN_PORT',
  'CONSOLE_PORT',
  'BUILDER_HTTP_PORT',
  'NODEMGR_HTTP_PORT',
];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end, bounded in time (SIGKILL after timeoutMs). */
function run(command: string, args: string[], env: NodeJS.ProcessEnv, input?: string, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end(input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => (clearTimeout(timer), resolve({ code, stdout, stderr })));
  });
}

/** A request to the gateway's nginx for a host, as curl -H 'Host: ...' would make it (bounded). */
function viaGateway(port: string, host: string, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: Number(port), path, headers: { host, connection: 'close' }, timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 3 s')));
    req.on('error', reject);
    req.end();
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('npm run up starts the console beside the data center; the CLI and the web UI use it; npm run down stops it', () => {
  const state = mkdtempSync(join(tmpdir(), 'wharf-story-'));
  const env: NodeJS.ProcessEnv = { ...process.env, WHARF_STATE_DIR: state, XDG_CONFIG_HOME: join(state, 'home'), NO_COLOR: '1' };
  const dcName = `story-${process.pid}`;
  const pids = new Map<string, number>();
  let up: Run;
  let consoleUrl = '';
  let apiUrl = '';
  let adminToken = '';
  let firstUser = { name: '', password: '' };
  const wharf = (args: string[], input?: string, timeoutMs?: number) =>
    run(process.execPath, [join(ROOT, 'console', 'cli', 'bin', 'wharf.js'), ...args], env, input, timeoutMs);
  const docker = dockerClient();
  let git: GitDaemon | undefined;
  const site = 'site.shop.acme.localhost';

  beforeAll(async () => {
    for (const name of PORTS) env[`WHARF_${name}`] = String(await freePort());
    // Its own data center on the shared Docker Engine: app-manager touches only what carries this name.
    env.WHARF_DATA_CENTER = dcName;
    env.WHARF_DOCKER_NAME_PREFIX = `s${process.pid}`;
    up = await run('bash', [join(ROOT, 'scripts', 'up.sh')], env, undefined, 300_000);
    for (const f of existsSync(join(state, 'run')) ? readdirSync(join(state, 'run')) : [])
      if (f.endsWith('.pid')) pids.set(f.replace(/\.pid$/, ''), Number(readFileSync(join(state, 'run', f), 'utf8')));
  }, 330_000);

  afterAll(async () => {
    // Stops whatever is still recorded (nothing when the last test ran down already).
    await run('bash', [join(ROOT, 'scripts', 'down.sh')], env, undefined, 120_000);
    await git?.stop();
    // What app-manager ran for this data center, and the images the builder made for its registry (nothing else).
    const filters = { label: [`${LABEL.dataCenter}=${dcName}`] };
    for (const c of await docker.listContainers({ all: true, filters }).catch(() => []))
      await docker
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined);
    for (const n of await docker.listNetworks({ filters }).catch(() => []))
      await docker
        .getNetwork(n.Id)
        .remove()
        .catch(() => undefined);
    const ours = `127.0.0.1:${env.WHARF_REGISTRY_PORT}/`;
    for (const img of await docker.listImages().catch(() => []))
      for (const tag of img.RepoTags ?? [])
        if (tag.startsWith(ours))
          await docker
            .getImage(tag)
            .remove({ force: true })
            .catch(() => undefined);
    rmSync(state, { recursive: true, force: true });
  }, 180_000);

  it('up prints the console URL and its first user, and the console answers there over TLS etcd', async () => {
    if (up.code !== 0) throw new Error(`npm run up failed (${up.code}):\n${up.stdout}\n${up.stderr}`);
    consoleUrl = up.stdout.match(/^ {2}console +(http:\/\/\S+)/m)?.[1] ?? '';
    expect(consoleUrl).toBe(`http://127.0.0.1:${env.WHARF_CONSOLE_PORT}`);
    apiUrl = `http://127.0.0.1:${env.WHARF_API_PORT}`;
    adminToken = up.stdout.match(/admin token (\S+)/)?.[1] ?? '';
    expect(adminToken).toMatch(/^wharf_/);
    const m = up.stdout.match(/first user {2}(\S+) \/ password (\S+)/);
    expect(m).not.toBeNull();
    firstUser = { name: m![1], password: m![2] };
    expect(pids.has('console')).toBe(true);
    const ready = await fetch(`${consoleUrl}/readyz`);
    expect(ready.status).toBe(200);
    // The console's etcd is the data center's (https, client certificates only).
    expect(readFileSync(join(state, 'logs', 'console.log'), 'utf8')).not.toMatch(/WHARF_INSECURE_DEV/);
  });

  it('the CLI signs in to the console, adds the local data center, and makes and lists an app and a component there', async () => {
    const tenant = await fetch(`${apiUrl}/api/v1/tenants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: '{"name":"acme"}',
    });
    expect(tenant.status).toBe(201);
    const login = await wharf(['login', consoleUrl, '--user', firstUser.name, '--password-stdin'], `${firstUser.password}\n`);
    expect(login).toMatchObject({ code: 0 });
    expect((await wharf(['dc', 'add', 'local', apiUrl, '--token', adminToken])).code).toBe(0);
    const dcs = JSON.parse((await wharf(['dc', 'list', '--json'])).stdout) as { items: { name: string; health: { status: string } }[] };
    expect(dcs.items).toEqual([expect.objectContaining({ name: 'local', health: expect.objectContaining({ status: 'ok' }) })]);
    expect((await wharf(['app', 'create', 'acme/shop', '--dc', 'local'])).code).toBe(0);
    const made = await wharf(['components', 'create', 'acme/shop/web', '--image', 'nginx:1.27', '--port', '80', '--no-deploy', '--dc', 'local']);
    expect(made).toMatchObject({ code: 0 });
    const apps = JSON.parse((await wharf(['apps', '--json'])).stdout) as { items: { dc_name: string; tenant: string; name: string }[] };
    expect(apps.items).toEqual([expect.objectContaining({ dc_name: 'local', tenant: 'acme', name: 'shop' })]);
    const components = JSON.parse((await wharf(['components', '--json'])).stdout) as { items: { dc_name: string; name: string }[] };
    expect(components.items).toEqual([expect.objectContaining({ dc_name: 'local', name: 'web' })]);
  });

  it('builds a component from git with its log live, and the gateway answers it through nginx by its host', async () => {
    git = await startGitDaemon();
    git.publish('site', join(__dirname, '..', 'fixtures', 'static'));
    const made = await wharf(
      ['components', 'create', 'acme/shop/site', '--git', git.url('site'), '--port', '8080', '--public', '--dc', 'local'],
      undefined,
      400_000,
    );
    // The builder's lines as they came, then the summary; a failure prints the failing step's message.
    expect({ code: made.code, stderr: made.code === 0 ? '' : made.stderr }).toEqual({ code: 0, stderr: '' });
    expect(made.stderr).toMatch(/component acme\/shop\/site created\n(build|deploy) acme\/shop\/site: evt-/);
    expect(made.stdout).toMatch(/index\.html and no application manifest \(a static site\)/);
    expect(made.stdout).toMatch(/✔ build succeeded in/);
    const served = await waitFor(
      'the component through the gateway',
      async () => {
        const r = await viaGateway(env.WHARF_LB_HTTP_PORT!, site).catch(() => undefined);
        return r?.status === 200 ? r : undefined;
      },
      30_000,
      200,
    );
    expect(served.body).toBe('hello from a static site\n');
  }, 420_000);

  it('deploys a new commit, rolls back to the version before, and an env change rolls the replica', async () => {
    git!.change('site', { 'public/index.html': 'second version\n' });
    expect(await wharf(['deploy', 'acme/shop/site', '--dc', 'local'], undefined, 300_000)).toMatchObject({ code: 0 });
    const answer = async (body: string) =>
      waitFor(
        `the gateway answering "${body.trim()}"`,
        async () => {
          const r = await viaGateway(env.WHARF_LB_HTTP_PORT!, site).catch(() => undefined);
          return r?.status === 200 && r.body === body ? r : undefined;
        },
        30_000,
        200,
      );
    await answer('second version\n');
    expect(await wharf(['rollback', 'acme/shop/site', '--dc', 'local'], undefined, 300_000)).toMatchObject({ code: 0 });
    await answer('hello from a static site\n');

    expect(await wharf(['env', 'set', 'acme/shop/site', 'GREETING=hello', '--dc', 'local'])).toMatchObject({ code: 0 });
    // The replica app-manager runs for this component carries the new env (a new container: rolled).
    const filters = { label: [`${LABEL.dataCenter}=${dcName}`], status: ['running'] };
    const rolled = await waitFor(
      'a running replica with GREETING=hello',
      async () => {
        for (const c of await docker.listContainers({ filters })) {
          const info = await docker.getContainer(c.Id).inspect();
          if (info.Config.Env.includes('GREETING=hello')) return info;
        }
        return undefined;
      },
      60_000,
      300,
    );
    expect(rolled.State.Running).toBe(true);
    await answer('hello from a static site\n');
  }, 620_000);

  it('a route of its own through the gateway: added, answered by nginx on that host, removed', async () => {
    expect(await wharf(['routes', 'add', 'acme/shop/site', 'www.shop.example', '--port', '8080', '--dc', 'local'])).toMatchObject({
      code: 0,
      stdout: 'route www.shop.example/ -> acme/shop/site:8080\n',
    });
    expect(await wharf(['routes', 'add', 'acme/shop/site', 'not a host', '--port', '8080', '--dc', 'local'])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/expected HOST or HOST\/PATH/),
    });
    const listed = JSON.parse((await wharf(['routes', 'acme/shop/site', '--dc', 'local', '--json'])).stdout) as { items: unknown[] };
    expect(listed.items).toEqual([expect.objectContaining({ host: 'www.shop.example', path_prefix: '/', port: 8080, tls: null })]);
    const byHost = (status: number) =>
      waitFor(
        `www.shop.example answering ${status} through the gateway`,
        async () => {
          const r = await viaGateway(env.WHARF_LB_HTTP_PORT!, 'www.shop.example').catch(() => undefined);
          return r?.status === status ? r : undefined;
        },
        30_000,
        200,
      );
    expect((await byHost(200)).body).toBe('hello from a static site\n');
    expect(await wharf(['routes', 'remove', 'acme/shop/site', 'www.shop.example', '--dc', 'local'])).toMatchObject({ code: 0 });
    await byHost(404);
    expect(await wharf(['routes', 'remove', 'acme/shop/site', 'www.shop.example', '--dc', 'local'])).toMatchObject({
      code: 4,
      stderr: expect.stringMatching(/has no route www\.shop\.example\//),
    });
  });

  it('scales to 3 and `logs -f` follows the runtime log of every replica live', async () => {
    expect(await wharf(['scale', 'acme/shop/site', '3', '--dc', 'local'], undefined, 180_000)).toMatchObject({ code: 0 });
    const child: ChildProcess = spawn(
      process.execPath,
      [join(ROOT, 'console', 'cli', 'bin', 'wharf.js'), 'logs', '-f', '--tail', '0', 'acme/shop/site', '--dc', 'local'],
      {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      // busybox httpd -v writes one line per request to stderr; nginx spreads requests over the replicas.
      const replicas = await waitFor(
        'request lines of 3 replicas in logs -f',
        async () => {
          for (let i = 0; i < 6; i++) await viaGateway(env.WHARF_LB_HTTP_PORT!, site).catch(() => undefined);
          const seen = new Set(
            out
              .split('\n')
              .filter((l) => /response:200/.test(l))
              .map((l) => l.split(' | ')[0]),
          );
          return seen.size >= 3 ? [...seen] : undefined;
        },
        60_000,
        250,
      );
      expect(replicas).toHaveLength(3);
    } finally {
      child.kill('SIGINT');
    }
    expect({ code: await exited, stderr: err }).toEqual({ code: 0, stderr: '' });
  }, 300_000);

  it('a broken build exits non-zero and says why', async () => {
    const broken = mkdtempSync(join(tmpdir(), 'wharf-story-broken-'));
    mkdirSync(join(broken, 'docs'));
    writeFileSync(join(broken, 'docs', 'notes.txt'), 'nothing to build here\n');
    git!.publish('broken', broken);
    rmSync(broken, { recursive: true, force: true });
    const res = await wharf(['components', 'create', 'acme/shop/broken', '--git', git!.url('broken'), '--port', '8080', '--dc', 'local'], undefined, 300_000);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/failed at step detect .*: .*(Dockerfile|package\.json)/);
  }, 320_000);

  it("the operator lists the data center's node and its health, cordons it and takes it back", async () => {
    type Node = { id: string; state: string; dc_name: string; conditions: { type: string; ok: boolean }[] };
    const ready = await waitFor(
      'the node READY',
      async () => {
        const res = JSON.parse((await wharf(['nodes', '--json'])).stdout) as { items: Node[] };
        return res.items.length === 1 && res.items[0].state === 'READY' ? res.items[0] : undefined;
      },
      30_000,
      500,
    ).catch(async (e: Error) => {
      throw new Error(`${e.message}: ${(await wharf(['nodes'])).stdout}`);
    });
    expect(ready).toMatchObject({ dc_name: 'local', conditions: expect.arrayContaining([expect.objectContaining({ type: 'runtime_reachable', ok: true })]) });
    expect((await wharf(['nodes'])).stdout).toMatch(new RegExp(`^local +${ready.id.replace(/\./g, '\\.')} +\\S+ +READY `, 'm'));
    const cordon = await wharf(['node', 'cordon', ready.id, '--reason', 'kernel update', '--dc', 'local']);
    expect(cordon).toMatchObject({ code: 0, stdout: `node ${ready.id}: cordon, READY -> INITED\n` });
    const shown = await wharf(['node', 'show', ready.id, '--dc', 'local']);
    expect(shown.stdout).toMatch(/state +INITED \(cordoned: no new replicas\)/);
    expect(shown.stdout).toMatch(/cordon: READY -> INITED \(kernel update, user:/);
    // A move the state does not allow is refused with the state and the moves it allows.
    expect(await wharf(['node', 'cordon', ready.id, '--dc', 'local'])).toMatchObject({ code: 6, stderr: expect.stringMatching(/INITED/) });
    expect(await wharf(['node', 'offline', ready.id, '--dc', 'local'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--yes/) });
    expect(await wharf(['node', 'uncordon', ready.id, '--dc', 'local'])).toMatchObject({ code: 0, stdout: `node ${ready.id}: uncordon, INITED -> READY\n` });
  });

  it('the web UI served by that console signs in and shows the app in the local data center', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(consoleUrl);
      await page.fill('input[name=name]', firstUser.name);
      await page.fill('input[name=password]', firstUser.password);
      await page.click('button[type=submit]');
      await page.waitForSelector('[data-testid=user]');
      await page.goto(`${consoleUrl}/#/apps`);
      await page.waitForSelector('[data-app="local/acme.shop"]');
    } finally {
      await browser.close();
    }
  });

  it('npm run down stops the console and everything else up started, by pid', async () => {
    const down = await run('bash', [join(ROOT, 'scripts', 'down.sh')], env, undefined, 120_000);
    expect(down.code).toBe(0);
    expect(down.stdout).toContain(`stopped console (pid ${pids.get('console')})`);
    // dockerd is stopped only when up started it; here it was already running (the e2e set-up).
    for (const [name, pid] of pids) if (name !== 'dockerd') expect({ name, alive: alive(pid) }).toEqual({ name, alive: false });
    await waitFor('the console port closed', async () => ((await fetch(`${consoleUrl}/livez`).catch(() => undefined)) ? undefined : true), 10_000);
  });
});
