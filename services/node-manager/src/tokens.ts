/** DI tokens shared by more than one folder. */
export const METRICS = Symbol('metrics');
export const SHUTDOWN = Symbol('shutdown');
export const AGENT = Symbol('agent');
