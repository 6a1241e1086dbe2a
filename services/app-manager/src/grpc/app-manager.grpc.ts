import { create, fromJsonString } from '@bufbuild/protobuf';
import { appmanagerV1 } from '@wharf/contracts';
import type { Etcd3, KeyLayout } from '@wharf/etcd';
import { invalidArgument, NotFoundError, type ServiceImpl } from '@wharf/grpc';
import type { RuntimeDriver } from '@wharf/runtime';
import { statusMessage } from '../adapters/status-publisher';
import type { Reconciler } from '../reconciler/reconciler';

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;

/**
 * AppManagerService: a component's status as published, and on request each replica's live cpu
 * and memory use read from the runtime now (never stored: it changes every second).
 */
export function appManagerService(deps: {
  reconciler: Reconciler;
  etcd: Etcd3;
  keys: KeyLayout;
  driver: RuntimeDriver;
}): ServiceImpl<typeof appmanagerV1.AppManagerService> {
  return {
    async getComponentStatus(req) {
      if (!ID.test(req.componentId)) throw invalidArgument('component_id', 'must be a component id');
      const local = deps.reconciler.lastStatus(req.componentId);
      let status: appmanagerV1.ComponentStatus;
      if (local) status = statusMessage(local.status, local.changedAtMs, deps.driver.kind);
      else {
        // Another instance owns it: what it published.
        const json = await deps.etcd.get(deps.keys.appmgr.status(req.componentId)).string();
        if (!json) throw new NotFoundError(`component ${req.componentId} has no status`);
        status = fromJsonString(appmanagerV1.ComponentStatusSchema, json);
      }
      if (req.usage) {
        const replicas = await deps.driver.listReplicas({ componentId: req.componentId });
        await Promise.all(
          status.replicas.map(async (r) => {
            const id = replicas.find((x) => x.name === r.name)?.id;
            const u = id ? await deps.driver.usage(id).catch(() => undefined) : undefined;
            if (u) {
              r.cpuMillis = u.cpuMillis;
              r.memoryBytes = BigInt(u.memoryBytes);
            }
          }),
        );
      }
      return create(appmanagerV1.GetComponentStatusResponseSchema, { status });
    },
  };
}
