import { eventlogV1 } from '@wharf/contracts';
import { createClient, type ServiceClient } from '@wharf/grpc';
import type { TransportSecurity } from '@wharf/pki';
import { foldSteps, type StepSource, type StepView } from '../domain/steps';

/** Reads an operation's timeline from event-log (bounded: a few pages) and keeps only its steps. */
export class EventLogSteps implements StepSource {
  private readonly client: ServiceClient<typeof eventlogV1.EventLogService>;

  constructor(
    address: string,
    security: TransportSecurity,
    private readonly maxPages = 20,
    private readonly timeoutMs = 3000,
  ) {
    this.client = createClient(eventlogV1.EventLogService, address, { security });
  }

  async steps(eventId: string): Promise<StepView[]> {
    const steps = new Map<string, StepView>();
    let after = 0n;
    for (let page = 0; page < this.maxPages; page++) {
      const res = await this.client.read({ eventId, afterSeq: after, limit: 5000 }, { timeoutMs: this.timeoutMs });
      foldSteps(res.entries, steps);
      if (!res.more || res.nextAfterSeq <= after) break;
      after = res.nextAfterSeq;
    }
    return [...steps.values()];
  }

  close(): void {
    this.client.close();
  }
}
