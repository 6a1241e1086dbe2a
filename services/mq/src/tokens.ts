// DI tokens shared by more than one folder of mq.
export const ETCD = Symbol('etcd');
export const LOGGER = Symbol('logger');
export const MQ_SETTINGS = Symbol('mq-settings');
export const GRPC_ADDRESS = Symbol('grpc-address');
export const ETCD_MAINTENANCE = Symbol('etcd-maintenance');
export const SECURITY = Symbol('transport-security');
