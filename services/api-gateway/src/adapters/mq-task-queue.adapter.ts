import { create } from '@bufbuild/protobuf';
import { mqV1 } from '@wharf/contracts';
import { createClient, type ServiceClient } from '@wharf/grpc';
import type { TransportSecurity } from '@wharf/pki';
import type { TaskQueue } from '../domain/task-dispatcher';

/** Tasks to mq: topic = kind, task id = event id (mq keeps one task per id and topic). */
export class MqTaskQueue implements TaskQueue {
  private readonly client: ServiceClient<typeof mqV1.MqService>;

  constructor(
    address: string,
    security: TransportSecurity,
    private readonly timeoutMs = 5000,
  ) {
    this.client = createClient(mqV1.MqService, address, { security });
  }

  async enqueue(topic: string, eventId: string, payload: Uint8Array): Promise<void> {
    await this.client.enqueue(create(mqV1.EnqueueRequestSchema, { topic, taskId: eventId, eventId, payload }), { timeoutMs: this.timeoutMs });
  }

  close(): void {
    this.client.close();
  }
}
