import { create } from '@bufbuild/protobuf';
import { consoleV1 } from '@wharf/contracts';
import { AlreadyExistsError, invalidArgument, NotFoundError } from '@wharf/errors';
import type { ConsoleContext } from './console-context';
import { DC_STREAM, type DataCenter } from './console-state';
import { DataCenterUnreachableError, type DataCenterApi, type DcHealth, type TokenSealer } from './ports';
import type { UsersService } from './users.service';

export interface DataCenterView {
  id: string;
  name: string;
  api_url: string;
  added_by: string;
  added_at_ms: number;
  /** Whether the caller has a token for it (never the token itself). */
  linked: boolean;
  /** Who the caller is in that data center. */
  dc_user: string | null;
  health: DcHealth;
}

/** The AES-GCM context of a sealed token: a ciphertext opens only for its data center and user. */
const sealContext = (dcId: string, user: string) => `console-dc/${dcId}/credential/${user}`;

/** Data centers (admins add and remove them) and each user's own token for each (the data center's RBAC decides what the user sees). */
export class DataCentersService {
  constructor(
    private readonly ctx: ConsoleContext,
    private readonly users: UsersService,
    private readonly api: DataCenterApi,
    private readonly sealer: TokenSealer,
  ) {}

  private view(dc: DataCenter, actor: string): DataCenterView {
    const cred = dc.credentials.get(actor);
    return {
      id: dc.id,
      name: dc.name,
      api_url: dc.apiUrl,
      added_by: dc.addedBy,
      added_at_ms: dc.addedAtMs,
      linked: !!cred,
      dc_user: cred?.dcUser ?? null,
      health: this.api.health(dc.id),
    };
  }

  all(): DataCenter[] {
    return [...this.ctx.state.dataCenters.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  list(actor: string): DataCenterView[] {
    return this.all().map((dc) => this.view(dc, actor));
  }

  get(actor: string, idOrName: string): DataCenterView {
    return this.view(this.find(idOrName), actor);
  }

  /** By id or by name (names are unique). */
  find(idOrName: string): DataCenter {
    const dc = this.ctx.state.dataCenters.get(idOrName) ?? this.all().find((d) => d.name === idOrName);
    if (!dc) throw new NotFoundError(`data center ${idOrName} not found`, { field: 'dc' });
    return dc;
  }

  /** The caller's token for a data center, opened; null when the caller has none. */
  tokenFor(dc: DataCenter, actor: string): string | null {
    const cred = dc.credentials.get(actor);
    return cred ? this.sealer.open(cred.sealed, sealContext(dc.id, actor)) : null;
  }

  /** Checks the URL answers as a Wharf API and the token is valid there; returns who the token is. */
  private async verify(target: { id: string; name: string; apiUrl: string }, token: string): Promise<string> {
    let info, me;
    try {
      info = await this.api.call(target, null, 'GET', '/api/v1/info');
      me = info.status === 200 ? await this.api.call(target, token, 'GET', '/api/v1/me') : undefined;
    } catch (err) {
      if (err instanceof DataCenterUnreachableError) throw invalidArgument('api_url', `the data center does not answer: ${err.message}`);
      throw err;
    } finally {
      // A data center being added has no health to keep yet.
      if (!this.ctx.state.dataCenters.has(target.id)) this.api.forget(target.id);
    }
    if (info.status !== 200 || typeof (info.body as { name?: unknown })?.name !== 'string') {
      throw invalidArgument('api_url', `does not answer GET /api/v1/info like a Wharf data center (HTTP ${info.status})`);
    }
    if (!me || me.status !== 200) throw invalidArgument('token', `the data center refused this token (HTTP ${me?.status})`);
    return String((me.body as { name?: unknown }).name ?? '');
  }

  async add(actor: string, input: { name: string; api_url: string; token: string }): Promise<DataCenterView> {
    this.users.requireAdmin(actor);
    if (this.all().some((d) => d.name === input.name)) throw new AlreadyExistsError(`data center ${input.name} already exists`, { field: 'name' });
    if (this.all().some((d) => d.apiUrl === input.api_url)) throw new AlreadyExistsError(`${input.api_url} is already added`, { field: 'api_url' });
    const id = `dc-${this.ctx.ids.hex(6)}`;
    const dcUser = await this.verify({ id, name: input.name, apiUrl: input.api_url }, input.token);
    await this.ctx.append(
      DC_STREAM(id),
      [
        create(consoleV1.DataCenterAddedSchema, { dcId: id, name: input.name, apiUrl: input.api_url, addedBy: actor }),
        create(consoleV1.DataCenterCredentialSetSchema, { dcId: id, user: actor, sealedToken: this.sealer.seal(input.token, sealContext(id, actor)), dcUser }),
      ],
      0,
      `user:${actor}`,
    );
    return this.get(actor, id);
  }

  async remove(actor: string, idOrName: string): Promise<void> {
    this.users.requireAdmin(actor);
    const dc = this.find(idOrName);
    await this.ctx.append(DC_STREAM(dc.id), [create(consoleV1.DataCenterRemovedSchema, { dcId: dc.id })], dc.version, `user:${actor}`);
    this.api.forget(dc.id);
  }

  /** Any user links their own data-center token (made for the console in that data center). */
  async setCredential(actor: string, idOrName: string, token: string): Promise<DataCenterView> {
    const dc = this.find(idOrName);
    const dcUser = await this.verify(dc, token);
    await this.ctx.append(
      DC_STREAM(dc.id),
      [create(consoleV1.DataCenterCredentialSetSchema, { dcId: dc.id, user: actor, sealedToken: this.sealer.seal(token, sealContext(dc.id, actor)), dcUser })],
      dc.version,
      `user:${actor}`,
    );
    return this.get(actor, dc.id);
  }

  async removeCredential(actor: string, idOrName: string): Promise<void> {
    const dc = this.find(idOrName);
    if (!dc.credentials.has(actor)) return;
    await this.ctx.append(DC_STREAM(dc.id), [create(consoleV1.DataCenterCredentialRemovedSchema, { dcId: dc.id, user: actor })], dc.version, `user:${actor}`);
  }
}
