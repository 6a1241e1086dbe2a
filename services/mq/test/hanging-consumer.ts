// A consumer process for the crash tests: takes one task, says so, then hangs
// mid-task until it is killed (never acks).
import { mqV1 } from '@wharf/contracts';
import { createClient } from '@wharf/grpc';
import { readTlsMaterial } from '@wharf/pki';

// As a consumer, with the certificate the test names in WHARF_TLS_* (as a service would).
const [address, topic, leaseMs] = process.argv.slice(2);
const { WHARF_TLS_CA_FILE: caFile = '', WHARF_TLS_CERT_FILE: certFile = '', WHARF_TLS_KEY_FILE: keyFile = '' } = process.env;
const client = createClient(mqV1.MqService, address, { security: { mode: 'mtls', tls: readTlsMaterial({ caFile, certFile, keyFile }) } });
process.stdout.write('waiting\n');
void client.dequeue({ topic, consumer: `hanging-${process.pid}`, leaseMs: Number(leaseMs), waitMs: 10_000, maxTasks: 1 }).then((res) => {
  const d = res.deliveries[0];
  process.stdout.write(d ? `got ${d.task!.taskId} attempt=${d.task!.attempt}\n` : 'nothing\n');
  setInterval(() => undefined, 1 << 30);
});
