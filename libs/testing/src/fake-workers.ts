import { EventLogClient } from '@wharf/event-log-client';
import type { TransportSecurity } from '@wharf/pki';

export type Script = (op: { eventId: string; kind: string; target: string }, report: ReturnType<EventLogClient['operation']>) => Promise<void> | void;

/**
 * Plays the workers (builder, app-manager) until they exist: watches a tenant's operations on
 * the data center and reports steps and lines for each new one to event-log under its event
 * id, as a worker would (with a worker's certificate: `clientSecurity(etcd, 'builder')`).
 * Bounded: stops when told, or after `maxMs`.
 */
export function fakeWorkers(
  apiUrl: string,
  adminToken: string,
  tenant: string,
  eventLogGrpc: string,
  security: TransportSecurity,
  script: Script,
  maxMs = 120_000,
) {
  const client = new EventLogClient({ address: eventLogGrpc, security });
  const seen = new Set<string>();
  let stopped = false;
  const started = Date.now();
  const loop = (async () => {
    while (!stopped && Date.now() - started < maxMs) {
      const res = await fetch(`${apiUrl}/api/v1/tenants/${tenant}/operations?status=pending&limit=50`, {
        headers: { authorization: `Bearer ${adminToken}` },
      }).catch(() => undefined);
      const body = res && res.ok ? ((await res.json()) as { items: { event_id: string; kind: string; target: string }[] }) : { items: [] };
      for (const op of body.items) {
        if (seen.has(op.event_id)) continue;
        seen.add(op.event_id);
        const report = client.operation(op.event_id, { target: op.target, tenantId: tenant });
        await script({ eventId: op.event_id, kind: op.kind, target: op.target }, report);
        await client.flush();
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    seen,
    async stop() {
      stopped = true;
      await loop;
      await client.close();
    },
  };
}
