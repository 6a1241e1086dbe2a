import { consoleV1 } from '@wharf/contracts';
import type { ProjectionDefinition, RecordedEvent } from '@wharf/event-store';

export interface ConsoleUser {
  name: string;
  passwordHash: string;
  admin: boolean;
  createdAtMs: number;
  /** Stream version (optimistic concurrency of changes to the user). */
  version: number;
}

export interface DataCenterCredential {
  /** AES-GCM sealed data-center token (adapters/token-box.adapter.ts); never leaves the server. */
  sealed: Uint8Array;
  /** Who the token is in the data center (its /identity/me), for display. */
  dcUser: string;
}

export interface DataCenter {
  id: string;
  name: string;
  apiUrl: string;
  addedBy: string;
  addedAtMs: number;
  version: number;
  /** console user -> that user's token for this data center. */
  credentials: Map<string, DataCenterCredential>;
}

/** The console's read model: users and data centers, folded from its own streams. */
export interface ConsoleState {
  users: Map<string, ConsoleUser>;
  dataCenters: Map<string, DataCenter>;
  events: number;
}

export const USER_STREAM = (name: string) => `console-user/${name}`;
export const DC_STREAM = (id: string) => `console-dc/${id}`;

/** A pure fold: rebuilt from zero at every start, the same state. */
export const consoleProjection: ProjectionDefinition<ConsoleState> = {
  name: 'console',
  initial: () => ({ users: new Map(), dataCenters: new Map(), events: 0 }),
  apply(state, event: RecordedEvent) {
    state.events++;
    const m = event.message;
    switch (m.$typeName) {
      case consoleV1.ConsoleUserCreatedSchema.typeName: {
        const e = m as consoleV1.ConsoleUserCreated;
        state.users.set(e.name, { name: e.name, passwordHash: e.passwordHash, admin: e.admin, createdAtMs: event.timeMs, version: event.version });
        break;
      }
      case consoleV1.ConsoleUserPasswordChangedSchema.typeName: {
        const e = m as consoleV1.ConsoleUserPasswordChanged;
        const u = state.users.get(e.name);
        if (u) Object.assign(u, { passwordHash: e.passwordHash, version: event.version });
        break;
      }
      case consoleV1.ConsoleUserRemovedSchema.typeName: {
        const e = m as consoleV1.ConsoleUserRemoved;
        state.users.delete(e.name);
        for (const dc of state.dataCenters.values()) dc.credentials.delete(e.name);
        break;
      }
      case consoleV1.DataCenterAddedSchema.typeName: {
        const e = m as consoleV1.DataCenterAdded;
        state.dataCenters.set(e.dcId, {
          id: e.dcId,
          name: e.name,
          apiUrl: e.apiUrl,
          addedBy: e.addedBy,
          addedAtMs: event.timeMs,
          version: event.version,
          credentials: new Map(),
        });
        break;
      }
      case consoleV1.DataCenterRemovedSchema.typeName:
        state.dataCenters.delete((m as consoleV1.DataCenterRemoved).dcId);
        break;
      case consoleV1.DataCenterCredentialSetSchema.typeName: {
        const e = m as consoleV1.DataCenterCredentialSet;
        const dc = state.dataCenters.get(e.dcId);
        if (dc) {
          dc.credentials.set(e.user, { sealed: e.sealedToken, dcUser: e.dcUser });
          dc.version = event.version;
        }
        break;
      }
      case consoleV1.DataCenterCredentialRemovedSchema.typeName: {
        const e = m as consoleV1.DataCenterCredentialRemoved;
        const dc = state.dataCenters.get(e.dcId);
        if (dc) {
          dc.credentials.delete(e.user);
          dc.version = event.version;
        }
        break;
      }
    }
    return state;
  },
};
