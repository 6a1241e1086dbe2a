import { invalidArgument, NotFoundError } from '@wharf/errors';
import type { Principal } from '@wharf/identity';
import type { GatewayContext } from './gateway-context';
import { mapPage, pageAfter, type PageQuery } from './pagination';
import { versionView } from './views/version.view';

/** The versions the builder recorded for a component. */
export class VersionsService {
  constructor(private readonly ctx: GatewayContext) {}

  /** Newest first; cursor = the last version id of the previous page. */
  listVersions(p: Principal, tenantId: string, componentId: string, q: PageQuery & { status?: string }) {
    const c = this.ctx.componentFor(p, tenantId, componentId, 'read');
    const newest = [...c.versions].reverse().filter((v) => !q.status || v.status === q.status);
    const page = pageAfter(newest, (v) => v.id, q);
    if (!page) throw invalidArgument('cursor', 'is not a version of this component');
    return mapPage(page, versionView);
  }

  getVersion(p: Principal, tenantId: string, componentId: string, versionId: string) {
    const v = this.ctx.componentFor(p, tenantId, componentId, 'read').versions.find((x) => x.id === versionId);
    if (!v) throw new NotFoundError(`version ${versionId} not found`);
    return versionView(v);
  }
}
