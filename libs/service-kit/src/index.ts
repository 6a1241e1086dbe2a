export { Readiness, type CheckResult, type ReadinessCheck, type ReadinessReport } from './readiness';
export { ProbesController, ProbesModule, READINESS } from './probes.module';
export {
  answerClientErrors,
  boundedHttpServer,
  BoundedExpressAdapter,
  clientErrorHandler,
  clientErrorResponse,
  httpLimitsFrom,
  httpLimitsShape,
  type HttpLimits,
} from './http-limits';
export { boundedFastifyAdapter, type BoundedFastifyOptions } from './bounded-fastify-adapter';
export { HTTP_STATUS, httpErrorOf, type HttpErrorResponse } from './error-response';
export { stopOnSignals } from './shutdown';
