import { fromJsonString } from '@bufbuild/protobuf';
import { appmanagerV1 } from '@wharf/contracts';
import { isEtcdUnavailable, type Etcd3, type KeyLayout } from '@wharf/etcd';
import type { DependencyState } from '../domain/dependency-state';
import type { RuntimeStatusSource } from '../domain/runtime-status.service';

/** app-manager's status key of a component (`<root>/appmgr/status/<id>`, proto3 JSON). */
export class EtcdRuntimeStatus implements RuntimeStatusSource {
  constructor(
    private readonly client: Etcd3,
    private readonly keys: KeyLayout,
    private readonly etcd: DependencyState,
  ) {}

  async statusOf(componentId: string): Promise<appmanagerV1.ComponentStatus | undefined> {
    this.etcd.assertUp();
    let json: string | null;
    try {
      json = await this.client.get(this.keys.appmgr.status(componentId)).string();
    } catch (err) {
      if (!isEtcdUnavailable(err)) throw err;
      this.etcd.markDown((err as Error).message);
      throw this.etcd.unavailable();
    }
    // Written by app-manager of this data center; a newer field it knows and we do not is skipped.
    return json ? fromJsonString(appmanagerV1.ComponentStatusSchema, json, { ignoreUnknownFields: true }) : undefined;
  }
}
