import { createEtcdClient, type Etcd3 } from '@wharf/etcd';
import { existsSync } from 'node:fs';
import { startEtcd, type EtcdInstance } from './index';

// The harness itself: a real etcd per test file that keeps its data across a crash and
// leaves nothing behind.
describe('startEtcd', () => {
  let etcd: EtcdInstance;
  let client: Etcd3;

  beforeAll(async () => {
    etcd = await startEtcd();
    // Few retries so the outage is seen quickly; no circuit breaker with one endpoint.
    client = createEtcdClient({ endpoints: [etcd.endpoint], maxAttempts: 2 });
  });
  afterAll(async () => {
    client.close();
    await etcd.destroy();
  });

  it('serves on its own loopback port', async () => {
    expect(etcd.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await client.put('k').value('v1');
    expect(await client.get('k').string()).toBe('v1');
  });

  it('keeps data across kill -9 and restart on the same port and dir', async () => {
    await client.put('durable').value('yes');
    await etcd.kill();
    await expect(client.get('durable').string()).rejects.toThrow();
    await etcd.start();
    expect(await client.get('durable').string()).toBe('yes');
  });

  it('removes its data dir on destroy', async () => {
    const other = await startEtcd();
    expect(existsSync(other.dataDir)).toBe(true);
    await other.destroy();
    expect(existsSync(other.dataDir)).toBe(false);
  });
});
