import type { RoutingTable } from '../domain/render-routing-table';
import { unixHttp } from './unix-http';

/**
 * The http instance's routing table, through its admin socket (lua/wharf/admin.lua): the
 * version nginx holds, and replacing the whole table. No reload: the workers pick the new
 * table up on their next request.
 */
export class RoutingTableClient {
  readonly counts = { pushes: 0, refused: 0 };

  constructor(private readonly socketPath: string) {}

  /** The version nginx holds ('' when it holds none, e.g. right after it started). */
  async version(): Promise<string> {
    const res = await unixHttp(this.socketPath, 'GET', '/wharf/state');
    if (res.status !== 200) throw new Error(`routing table version: nginx answered ${res.status}: ${res.body.trim()}`);
    return res.body.trim();
  }

  async replace(table: RoutingTable): Promise<void> {
    const res = await unixHttp(this.socketPath, 'PUT', '/wharf/state', table.json, 10_000);
    if (res.status !== 200 || res.body.trim() !== table.version) {
      this.counts.refused++;
      throw new Error(`nginx refused the routing table ${table.version}: ${res.status} ${res.body.trim()}`);
    }
    this.counts.pushes++;
  }
}
