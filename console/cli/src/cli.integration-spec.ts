import {
  clientSecurity,
  freePort,
  startApiGateway,
  startEventLog,
  startEtcd,
  type EtcdInstance,
  type RunningApiGateway,
  type RunningEventLog,
} from '@wharf/testing';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeWorkers, wharf, type Script } from '../test/cli-harness';

/**
 * `wharf` against a running data center (etcd, event-log, api-gateway as real processes). The
 * workers that will run builds and rollouts (builder, app-manager) are played by the test: it
 * reports steps and lines to event-log under each operation's event id, as they will.
 */
describe('wharf CLI against a running data center', () => {
  let etcd: EtcdInstance;
  let eventLog: RunningEventLog;
  let api: RunningApiGateway;
  let dataDir: string;
  let home: string;
  let workers: ReturnType<typeof fakeWorkers>;
  /** What the played workers do with the next operations, by kind. */
  const behaviour: Record<string, 'ok' | 'fail' | 'slow'> = {};

  const script: Script = async (op, report) => {
    const how = behaviour[op.kind] ?? 'ok';
    const step = report.step(op.kind === 'build' ? 'build' : 'rollout');
    for (let i = 1; i <= 5; i++) step.line(`${op.kind} line ${i}`);
    if (how === 'slow') {
      await new Promise((r) => setTimeout(r, 300));
      step.line('still going');
      return; // never finishes while the test watches: Ctrl-C detaches from it
    }
    if (how === 'fail') {
      step.fail('exit status 2: npm ERR! missing script: build');
      report.done();
      return;
    }
    step.ok();
    const sub = report.step('rollout/replica-1');
    sub.line('healthy');
    sub.ok();
    report.done();
  };

  beforeAll(async () => {
    etcd = await startEtcd();
    dataDir = mkdtempSync(join(tmpdir(), 'wharf-cli-'));
    home = mkdtempSync(join(tmpdir(), 'wharf-cli-home-'));
    eventLog = await startEventLog(etcd, dataDir);
    api = await startApiGateway(etcd, `127.0.0.1:${await freePort()}`, { WHARF_EVENTLOG_ADDR: eventLog.grpc, WHARF_EVENTLOG_HTTP_URL: eventLog.url });
    await fetch(`${api.url}/api/v1/tenants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${api.adminToken}`, 'content-type': 'application/json' },
      body: '{"name":"acme"}',
    });
    workers = fakeWorkers(api.url, api.adminToken!, 'acme', eventLog.grpc, clientSecurity(etcd, 'builder'), script);
  });
  afterAll(async () => {
    await workers?.stop();
    await api?.stop();
    await eventLog?.stop();
    await etcd?.destroy();
    for (const d of [dataDir, home]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('refuses a bad URL, a token the data center does not accept, and commands before login, each with its exit code', async () => {
    expect(await wharf(home, ['apps'])).toMatchObject({ code: 3, stderr: expect.stringMatching(/not logged in/) });
    expect(await wharf(home, ['login', 'not a url', '--token', 'x'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/not a URL/) });
    expect(await wharf(home, ['login', api.url, '--token', 'wharf_AAAAAAAAAAAAAAAA_' + 'a'.repeat(43)])).toMatchObject({ code: 3 });
    expect(await wharf(home, ['login', `http://127.0.0.1:${await freePort()}`, '--token', 'x'])).toMatchObject({
      code: 5,
      stderr: expect.stringMatching(/cannot reach/),
    });
    expect(await wharf(home, ['bogus'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown command/) });
  });

  it('logs in with a token kept 0600 in the XDG config dir', async () => {
    const res = await wharf(home, ['login', api.url, '--token', api.adminToken!, '--tenant', 'acme']);
    expect(res).toMatchObject({ code: 0, stdout: expect.stringMatching(/logged in to .* as admin, team acme/) });
    const file = join(home, 'wharf', 'config.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'wharf')).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ kind: 'dc', url: api.url, tenant: 'acme' });
  });

  it('creates a component from an image (making its app) and streams the build and rollout live to its final status', async () => {
    const res = await wharf(home, ['components', 'create', 'shop/api', '--image', 'nginx:1.27', '--port', '80']);
    expect(res.stderr).toContain('component acme/shop/api created');
    expect(res.stdout.split('\n')).toEqual(
      expect.arrayContaining([
        '▶ build',
        '[build] build line 1',
        '[build] build line 5',
        '  ▶ rollout/replica-1',
        '[rollout/replica-1] healthy',
        expect.stringMatching(/^✔ build succeeded in/),
      ]),
    );
    expect(res.code).toBe(0);
    const apps = JSON.parse((await wharf(home, ['apps', '--json'])).stdout);
    expect(apps.items.map((a: { id: string; components: number }) => [a.id, a.components])).toEqual([['acme.shop', 1]]);
    const comps = JSON.parse((await wharf(home, ['components', 'shop', '--json'])).stdout);
    expect(comps.items.map((c: { id: string }) => c.id)).toEqual(['acme.shop.api']);
  });

  it("exits non-zero with the failing step's message when a deploy fails", async () => {
    behaviour.build = 'fail';
    try {
      const res = await wharf(home, ['deploy', 'shop/api']);
      expect(res.code).toBe(1);
      expect(res.stdout).toContain('✖ build');
      expect(res.stderr).toMatch(/✖ deploy failed at step build in .*: exit status 2: npm ERR! missing script: build/);
    } finally {
      behaviour.build = 'ok';
    }
  });

  it('detaches on Ctrl-C without cancelling: the operation goes on', async () => {
    behaviour.build = 'slow';
    try {
      const res = await wharf(home, ['deploy', 'shop/api'], { onStdout: (out, child) => out.includes('build line 5') && child.kill('SIGINT') });
      expect(res.code).toBe(130);
      const eventId = res.stderr.match(/deploy acme\/shop\/api: (evt-\S+)/)![1];
      expect(res.stderr).toContain(`detached from deploy ${eventId} (it goes on in the data center): wharf follow ${eventId}`);
      const events = JSON.parse((await wharf(home, ['events', 'shop/api', '--json'])).stdout);
      expect(events.items.find((e: { event_id: string }) => e.event_id === eventId)).toMatchObject({ kind: 'build', status: 'running' });
    } finally {
      behaviour.build = 'ok';
    }
  });

  it('scales (queued behind the running operation refused as a conflict), sets and unsets env, lists events', async () => {
    expect(await wharf(home, ['scale', 'shop/api', 'abc'])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/replicas "abc": must be a whole number 0-100/),
    });
    // The detached deploy still runs: a second operation is a conflict (409 -> 6).
    expect(await wharf(home, ['scale', 'shop/api', '3', '--no-follow'])).toMatchObject({ code: 6, stderr: expect.stringMatching(/operation/) });
    expect(await wharf(home, ['env', 'set', 'shop/api', 'GREETING=hello', 'MODE=prod'])).toMatchObject({ code: 0 });
    expect(await wharf(home, ['env', 'unset', 'shop/api', 'MODE'])).toMatchObject({ code: 0 });
    const env = JSON.parse((await wharf(home, ['env', 'list', 'shop/api', '--json'])).stdout);
    expect(env.items).toEqual([{ name: 'GREETING', secret: false, value: 'hello' }]);
    expect(await wharf(home, ['env', 'set', 'shop/api', 'NOEQUALS'])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/"NOEQUALS": expected KEY=VALUE/),
    });
    const events = JSON.parse((await wharf(home, ['events', 'shop/api', '--json'])).stdout);
    expect(events.items.map((e: { kind: string }) => e.kind)).toEqual(['build', 'build', 'build']);
  });

  it('answers bad input on create with the field and creates nothing', async () => {
    expect(await wharf(home, ['components', 'create', 'shop/API', '--image', 'nginx'])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/component "API"/),
    });
    expect(await wharf(home, ['components', 'create', 'shop/web'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--image <ref> or --git <url>/) });
    expect(await wharf(home, ['components', 'create', 'shop/web', '--image', 'Not An Image'])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/source/),
    });
    expect(await wharf(home, ['components', 'create', 'shop/web', '--git', 'file:///etc', '--no-deploy'])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/git/),
    });
    expect(await wharf(home, ['components', 'create', 'shop/web', '--image', 'nginx', '--port', '70000'])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/port must be/),
    });
    const comps = JSON.parse((await wharf(home, ['components', 'shop', '--json'])).stdout);
    expect(comps.items.map((c: { name: string }) => c.name)).toEqual(['api']);
    expect(await wharf(home, ['components', 'nope', '--json'])).toMatchObject({ code: 4 });
  });
});
