/** DI tokens for what is provided by interface or by value, shared by app.module.ts, http/ and main.ts. */
export const LOGGER = Symbol('logger'); // Logger
export const ETCD = Symbol('etcd'); // Etcd3
export const GATEWAY = Symbol('gateway'); // Gateway (gateway.ts): the running pieces
export const METRICS = Symbol('metrics'); // prom-client Registry
