/** DI tokens for what is provided by interface or value; the use cases are provided under their classes. */
export const CONFIG = Symbol('config'); // ConsoleConfig
export const LOGGER = Symbol('logger'); // Logger
export const CLOCK = Symbol('clock'); // Clock
export const IDS = Symbol('ids'); // Ids
export const ETCD = Symbol('etcd'); // Etcd3 on the console's own prefix
export const EVENT_STORE = Symbol('event-store'); // EventStore (console streams)
export const STATE = Symbol('state'); // Projection<ConsoleState>
export const SESSION_STORE = Symbol('session-store'); // SessionStore
export const DC_API = Symbol('dc-api'); // DataCenterApi
