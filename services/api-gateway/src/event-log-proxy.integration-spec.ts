import { EventLogClient, followOperation, type TimelineEntry } from '@wharf/event-log-client';
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
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io } from 'socket.io-client';
import { client } from '../test/api-harness';

describe('GET /api/v1/info and event-log under the API address (real processes, real etcd)', () => {
  let etcd: EtcdInstance;
  let eventLog: RunningEventLog;
  let api: RunningApiGateway;
  let dataDir: string;

  beforeAll(async () => {
    etcd = await startEtcd();
    dataDir = mkdtempSync(join(tmpdir(), 'wharf-api-proxy-'));
    eventLog = await startEventLog(etcd, dataDir);
    api = await startApiGateway(etcd, `127.0.0.1:${await freePort()}`, {
      WHARF_EVENTLOG_ADDR: eventLog.grpc,
      WHARF_EVENTLOG_HTTP_URL: eventLog.url,
      WHARF_DC_NAME: 'east',
      WHARF_LB_DOMAIN: 'east.example',
    });
  });
  afterAll(async () => {
    await api?.stop();
    await eventLog?.stop();
    await etcd?.destroy();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('advertises name, version, websocket URL and gateway domain without a token, and refuses unknown parameters', async () => {
    const res = await client(api.url)('GET', '/api/v1/info');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      name: 'east',
      version: '0.1.0',
      api_url: `${api.url}/api/v1`,
      websocket_url: api.url,
      websocket_path: '/socket.io',
      gateway_domain: 'east.example',
    });
    expect((await client(api.url)('GET', '/api/v1/info?x=1')).body.error).toMatchObject({ code: 'invalid', field: 'x' });
  });

  it('follows an operation live through the API address with the same token, resumes by seq, and serves its history', async () => {
    const admin = client(api.url, api.adminToken);
    await admin('POST', '/api/v1/tenants', { name: 'acme' });
    await admin('POST', '/api/v1/tenants/acme/apps', { name: 'shop' });
    await admin('POST', '/api/v1/tenants/acme/apps/acme.shop/components', { name: 'api', source: { image: 'nginx' } });
    const { event_id: eventId } = (await admin('POST', '/api/v1/tenants/acme/components/acme.shop.api/operations', { kind: 'deploy' })).body;

    const seen: TimelineEntry[] = [];
    const following = followOperation({ url: api.url, token: api.adminToken!, eventId, onEntries: (e) => seen.push(...e) });
    const reporter = new EventLogClient({ address: eventLog.grpc, security: clientSecurity(etcd, 'builder') });
    try {
      const op = reporter.operation(eventId, { target: 'component/acme.shop.api', tenantId: 'acme' });
      const pull = op.step('pull');
      for (let i = 0; i < 50; i++) pull.line(`line ${i}`);
      pull.ok();
      op.done();
      expect(await reporter.flush()).toBe(true);
    } finally {
      await reporter.close();
    }
    const final = await following.finished;
    expect(final).toMatchObject({ type: 'final', status: 'success' });
    expect(seen.map((e) => e.seq)).toEqual(seen.map((_, i) => i + 1));
    expect(seen.filter((e) => e.type === 'line')).toHaveLength(50);

    // History over HTTP, through the API address, paged by seq.
    const page = await admin('GET', `/api/v1/operations/${eventId}/entries?after_seq=10&limit=5`);
    expect(page.status).toBe(200);
    expect(JSON.stringify(page.body)).toContain('"seq":11');

    // Resume from the middle over a fresh connection: exactly what came after.
    const rest: TimelineEntry[] = [];
    const resumed = followOperation({ url: api.url, token: api.adminToken!, eventId, afterSeq: 40, onEntries: (e) => rest.push(...e) });
    await resumed.finished;
    expect(rest[0].seq).toBe(41);
    expect(rest[rest.length - 1]).toMatchObject({ type: 'final' });
  });

  it('refuses a socket without a valid token, and answers 404 for other upgrade paths', async () => {
    const socket = io(api.url, { auth: { token: 'wharf_nope_nope' }, transports: ['websocket'], reconnection: false });
    const refused = await new Promise<string>((resolve) => socket.on('connect_error', (err) => resolve(err.message)));
    socket.close();
    expect(refused).toMatch(/unauthenticated/);
    const other = io(api.url, { path: '/not-socket-io', transports: ['websocket'], reconnection: false });
    const err = await new Promise<string>((resolve) => other.on('connect_error', (e) => resolve(e.message)));
    other.close();
    expect(err).toMatch(/websocket error/);
  });

  it('answers 503 unavailable (JSON) for history while event-log is down', async () => {
    await eventLog.stop();
    const res = await client(api.url, api.adminToken)('GET', '/api/v1/operations/evt-00000000-0000-4000-8000-000000000000/entries');
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('unavailable');
  });
});
