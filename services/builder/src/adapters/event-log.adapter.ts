import type { EventLogClient } from '@wharf/event-log-client';
import type { OperationLog } from '../build/ports';

/** A build's timeline in event-log: the component is the operation's target. */
export function operationLog(client: EventLogClient, task: { eventId: string; componentId: string; tenantId: string }): OperationLog {
  const op = client.operation(task.eventId, { target: `component/${task.componentId}`, tenantId: task.tenantId });
  return {
    step(name) {
      const step = op.step(name);
      return {
        line: (text, level = 'info') => void step.line(text, level),
        ok: () => step.ok(),
        fail: (message) => step.fail(message),
      };
    },
    done: () => op.done(),
  };
}
