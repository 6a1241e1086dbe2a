import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { PermissionDeniedError } from '@wharf/grpc';
import { spawnProcess, startEtcd, startMq, type EtcdInstance, type RunningMq } from '@wharf/testing';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const MAIN = join(__dirname, '..', 'dist', 'main.js');

// The real mq process with the data center's transport security: mutual TLS, the method
// table, and start-up refusals, seen by clients this project did not write.
describe('mq: service identity and bad bytes (real process, real etcd)', () => {
  let etcd: EtcdInstance;
  let mq: RunningMq;

  beforeAll(async () => {
    etcd = await startEtcd();
    mq = await startMq(etcd, { WHARF_LOG_LEVEL: 'info' });
  });
  afterAll(async () => {
    await mq?.stop();
    await etcd?.destroy();
  });

  // grpc-js with identity serializers: raw bytes, as a Python or Go client would send them.
  const rawAs = (identity: string) => {
    const f = etcd.pki.files(identity);
    return new Client(mq.grpc, credentials.createSsl(readFileSync(f.caFile), readFileSync(f.keyFile), readFileSync(f.certFile)));
  };
  const rawUnary = (client: Client, path: string, bytes: Buffer) =>
    new Promise<ServiceError | null>((resolve) =>
      client.makeUnaryRequest(
        path,
        (b: Buffer) => b,
        (b: Buffer) => b,
        bytes,
        new Metadata(),
        {},
        (err) => resolve(err),
      ),
    );

  it('answers 16 bytes of 0xff to Enqueue with INVALID_ARGUMENT naming the method and the message type', async () => {
    const raw = rawAs('api-gateway');
    try {
      const err = await rawUnary(raw, '/wharf.mq.v1.MqService/Enqueue', Buffer.alloc(16, 0xff));
      expect({ code: status[err!.code], details: err!.details }).toEqual({
        code: 'INVALID_ARGUMENT',
        details: expect.stringMatching(/^\/wharf\.mq\.v1\.MqService\/Enqueue: the request is not a valid wharf\.mq\.v1\.EnqueueRequest \(/),
      });
    } finally {
      raw.close();
    }
  });

  it('admits each identity only to the methods of its line in the table, and logs a refusal', async () => {
    await expect(mq.clientAs('api-gateway').enqueue({ topic: 'sec', taskId: 'one' })).resolves.toMatchObject({ created: true });
    const refused = mq.clientAs('api-gateway').dequeue({ topic: 'sec', waitMs: 0 });
    await expect(refused).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(refused).rejects.toThrow('api-gateway may not call /wharf.mq.v1.MqService/Dequeue');
    await expect(mq.clientAs('lb-manager').enqueue({ topic: 'sec', taskId: 'two' })).rejects.toThrow('lb-manager may not call /wharf.mq.v1.MqService/Enqueue');
    await mq.process.waitForOutput(/"identity":"lb-manager","method":"\/wharf\.mq\.v1\.MqService\/Enqueue".*gRPC call refused/);
    // Nothing but the allowed call was enqueued.
    expect((await mq.admin.stats({ topics: ['sec'] })).topics[0]).toMatchObject({ depth: 1n });
  });

  it('refuses a caller without a certificate at the handshake, and logs why', async () => {
    const anonymous = new Client(mq.grpc, credentials.createSsl(readFileSync(etcd.pki.caFile)));
    try {
      const err = await rawUnary(anonymous, '/wharf.mq.v1.MqService/Stats', Buffer.alloc(0));
      expect(err!.code).toBe(status.UNAVAILABLE);
      await mq.process.waitForOutput(/"reason":"no client certificate".*gRPC TLS connection refused/);
    } finally {
      anonymous.close();
    }
  });

  it('will not start without TLS settings, naming the variables', async () => {
    const proc = spawnProcess(process.execPath, [MAIN], {
      env: { ...process.env, WHARF_ETCD_ENDPOINTS: etcd.endpoint, WHARF_MQ_GRPC_ADDR: '127.0.0.1:0', WHARF_HTTP_PORT: '0' },
    });
    expect(await proc.exited).toBe(78);
    expect(proc.output()).toMatch(/WHARF_TLS_CA_FILE: missing: services talk only over mutual TLS/);
    expect(proc.output()).toMatch(/WHARF_TLS_CERT_FILE: missing/);
  });

  it("will not start with another service's certificate", async () => {
    const proc = spawnProcess(process.execPath, [MAIN], {
      env: { ...process.env, ...etcd.pki.env('builder'), WHARF_ETCD_ENDPOINTS: etcd.endpoint, WHARF_MQ_GRPC_ADDR: '127.0.0.1:0', WHARF_HTTP_PORT: '0' },
    });
    expect(await proc.exited).toBe(78);
    expect(proc.output()).toContain('WHARF_TLS_CERT_FILE: ' + etcd.pki.files('builder').certFile + ": is builder's certificate, not mq's");
  });
});
