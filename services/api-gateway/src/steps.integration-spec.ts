import { EventLogClient } from '@wharf/event-log-client';
import { freePort, startApiGateway, startEventLog, startEtcd, waitFor, type EtcdInstance, type RunningApiGateway, type RunningEventLog } from '@wharf/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { client } from '../test/api-harness';

describe('operations with event-log: steps and the final status (real processes, real etcd)', () => {
  let etcd: EtcdInstance;
  let eventLog: RunningEventLog;
  let api: RunningApiGateway;
  let dataDir: string;

  beforeAll(async () => {
    etcd = await startEtcd();
    dataDir = mkdtempSync(join(tmpdir(), 'wharf-api-steps-'));
    eventLog = await startEventLog(etcd, dataDir);
    // No mq here: the operation is accepted anyway and its task retried in the background.
    api = await startApiGateway(etcd, `127.0.0.1:${await freePort()}`, { WHARF_EVENTLOG_ADDR: eventLog.grpc });
  });
  afterAll(async () => {
    await api?.stop();
    await eventLog?.stop();
    await etcd?.destroy();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('shows the steps a worker reported and the final status event-log decided; then a new action is accepted', async () => {
    const admin = client(api.url, api.adminToken);
    await admin('POST', '/api/v1/tenants', { name: 'acme' });
    await admin('POST', '/api/v1/tenants/acme/apps', { name: 'shop' });
    await admin('POST', '/api/v1/tenants/acme/apps/acme.shop/components', { name: 'api', source: { image: 'nginx' } });
    const ops = '/api/v1/tenants/acme/components/acme.shop.api/operations';
    const { event_id: eventId } = (await admin('POST', ops, { kind: 'deploy' })).body;
    const fresh = await admin('GET', `/api/v1/tenants/acme/operations/${eventId}`);
    expect(fresh.body).toMatchObject({ status: 'pending', steps: [] });

    // What app-manager will do: report steps under the event id.
    const reporter = new EventLogClient({ security: etcd.pki.security('builder'), address: eventLog.grpc });
    try {
      const op = reporter.operation(eventId, { target: 'component/acme.shop.api', tenantId: 'acme' });
      const pull = op.step('pull');
      pull.line('pulling nginx');
      pull.ok();
      op.step('rollout').fail('replica 1 never became healthy');
      op.done();
      expect(await reporter.flush()).toBe(true);
    } finally {
      await reporter.close();
    }
    const done = await waitFor('the final status', async () => {
      const res = await admin('GET', `/api/v1/tenants/acme/operations/${eventId}`);
      return res.body.status === 'failure' ? res.body : undefined;
    });
    expect(done.steps.map((s: { name: string; status: string }) => [s.name, s.status])).toEqual([
      ['pull', 'success'],
      ['rollout', 'failure'],
    ]);
    expect(done.steps[1].message).toBe('replica 1 never became healthy');
    expect(done.failed_step).toBe('rollout');
    expect((await admin('POST', ops, { kind: 'deploy' })).status).toBe(202);
  });
});
