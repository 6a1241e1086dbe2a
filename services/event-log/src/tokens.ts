// Every Nest injection token of event-log, in one place: a folder imports this file instead
// of another folder only for a Symbol. The types behind them live with their consumers.

/** The engine as the main thread reaches it (threads/operation-log.ts). */
export const OPERATION_LOG = Symbol('operation-log');
/** Who may read what (adapters/feed/authenticator.ts). */
export const AUTHENTICATOR = Symbol('authenticator');
/** component id -> its tenant, from the feed. */
export const COMPONENT_TENANTS = Symbol('component-tenants');
/** Runtime logs of components' replicas (adapters/runtime-logs). */
export const RUNTIME_LOGS = Symbol('runtime-logs');
export const WS_SETTINGS = Symbol('ws-settings');
export const LOGGER = Symbol('logger');
/** The ingest thread's metrics, merged into /metrics. */
export const INGEST_METRICS = Symbol('ingest-metrics');
export const ON_SHUTDOWN = Symbol('on-shutdown');
export const GRPC_ADDRESS = Symbol('grpc-address');
export const INGEST_LIMITS = Symbol('ingest-limits');
export const CLOCK = Symbol('clock');
/** Mutual TLS of the ingest thread's gRPC server (or insecure-dev). */
export const SECURITY = Symbol('transport-security');
