/**
 * DI tokens for what is provided by interface (or by a value), shared by app.module.ts,
 * http/ and main.ts; the use cases (domain/*.service.ts) are provided under their classes.
 */
export const CONFIG = Symbol('config'); // ApiConfig
export const LOGGER = Symbol('logger'); // Logger
export const CLOCK = Symbol('clock'); // Clock (@wharf/system)
export const IDS = Symbol('ids'); // Ids (@wharf/system)
export const ETCD = Symbol('etcd'); // Etcd3: the client with retries, for the event store and snapshots
export const ETCD_PROBE = Symbol('etcd-probe'); // EtcdProbe, on its own client without retries
export const ETCD_STATE = Symbol('etcd-state'); // DependencyState of etcd
export const EVENT_STORE = Symbol('event-store'); // EventStore (guarded: refuses while etcd is down)
export const CATALOG = Symbol('catalog'); // Projection<Catalog>, caught up before the app serves
export const SNAPSHOTTER = Symbol('snapshotter'); // CatalogSnapshotter
export const TASK_QUEUE = Symbol('task-queue'); // MqTaskQueue
export const STEP_SOURCE = Symbol('step-source'); // StepSource | null (no WHARF_EVENTLOG_ADDR)
export const SECRET_SEALER = Symbol('secret-sealer'); // SecretSealer
export const METRICS = Symbol('metrics'); // prom-client Registry
/** ReadinessCheck[] (domain/readiness.ts) this service adds to its /readyz (@wharf/service-kit). */
export const READINESS_CHECKS = Symbol('readiness-checks');
