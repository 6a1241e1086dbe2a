import { createEtcdClient, type Etcd3 } from '@wharf/etcd';
import { createCa, issueTlsMaterial } from '@wharf/pki';
import { noop } from 'cockatiel';
import { Etcd3 as RawEtcd3 } from 'etcd3';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { freePort, startEtcd, type EtcdInstance } from './index';

// The harness itself: a real etcd per test file that keeps its data across a crash and
// leaves nothing behind.
describe('startEtcd', () => {
  let etcd: EtcdInstance;
  let client: Etcd3;

  beforeAll(async () => {
    etcd = await startEtcd();
    // Few retries so the outage is seen quickly; no circuit breaker with one endpoint.
    client = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security, maxAttempts: 2 });
  });
  afterAll(async () => {
    client.close();
    await etcd.destroy();
  });

  it('serves on its own loopback port, over https', async () => {
    expect(etcd.endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
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

  // etcd3 straight, not createEtcdClient: a client this project did not shape, one attempt each.
  const outsider = (credentials?: { rootCertificate: Buffer; privateKey?: Buffer; certChain?: Buffer }) =>
    new RawEtcd3({ hosts: etcd.endpoint, credentials, dialTimeout: 2000, faultHandling: { global: noop, host: () => noop } });

  it('refuses a client without a certificate, and one from another CA', async () => {
    const ca = readFileSync(etcd.pki.caFile);
    const anonymous = outsider({ rootCertificate: ca });
    const foreign = await issueTlsMaterial(await createCa(), { identity: 'admin' });
    const stranger = outsider({ rootCertificate: ca, privateKey: foreign.key, certChain: foreign.cert });
    try {
      // etcd ends the handshake with a bad_certificate alert: no call is answered.
      await expect(anonymous.get('k').string()).rejects.toThrow(/UNAVAILABLE.*bad certificate/);
      await expect(stranger.get('k').string()).rejects.toThrow(/UNAVAILABLE.*bad certificate/);
    } finally {
      anonymous.close();
      stranger.close();
    }
    // The same etcd answers a certificate of its CA.
    const f = etcd.pki.files('builder');
    const member = outsider({ rootCertificate: ca, privateKey: readFileSync(f.keyFile), certChain: readFileSync(f.certFile) });
    try {
      expect(await member.get('k').string()).toBe('v1');
    } finally {
      member.close();
    }
  });

  it('createEtcdClient refuses endpoints that do not match its transport security', () => {
    expect(() => createEtcdClient({ endpoints: ['http://127.0.0.1:1'], security: etcd.security })).toThrow(/must be https:\/\//);
    expect(() => createEtcdClient({ endpoints: [etcd.endpoint], security: { mode: 'insecure-dev' } })).toThrow(/needs TLS material/);
  });

  it('removes its data dir on destroy', async () => {
    const other = await startEtcd();
    expect(existsSync(other.dataDir)).toBe(true);
    await other.destroy();
    expect(existsSync(other.dataDir)).toBe(false);
  });

  it('starts on other ports when a port it picked was taken before etcd bound it', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const takenPort = (taken.address() as { port: number }).port;
    const picks = [takenPort];
    const other = await startEtcd({ pickPort: async () => picks.shift() ?? freePort() });
    try {
      expect(other.endpoint).not.toContain(`:${takenPort}`);
      const c = createEtcdClient({ endpoints: [other.endpoint], security: other.security, maxAttempts: 2 });
      await c.put('k').value('v');
      expect(await c.get('k').string()).toBe('v');
      c.close();
    } finally {
      await other.destroy();
      taken.close();
    }
  });
});
