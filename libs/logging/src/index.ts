export { createLogger, operationLogger, type Logger } from './logger';
export { PinoNestLogger } from './nest-logger';
