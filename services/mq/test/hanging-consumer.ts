// A consumer process for the crash tests: takes one task, says so, then hangs
// mid-task until it is killed (never acks).
import { mqV1 } from '@wharf/contracts';
import { createClient } from '@wharf/grpc';

const [address, topic, leaseMs] = process.argv.slice(2);
const client = createClient(mqV1.MqService, address);
process.stdout.write('waiting\n');
void client.dequeue({ topic, consumer: `hanging-${process.pid}`, leaseMs: Number(leaseMs), waitMs: 10_000, maxTasks: 1 }).then((res) => {
  const d = res.deliveries[0];
  process.stdout.write(d ? `got ${d.task!.taskId} attempt=${d.task!.attempt}\n` : 'nothing\n');
  setInterval(() => undefined, 1 << 30);
});
