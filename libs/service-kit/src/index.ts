export { Readiness, type CheckResult, type ReadinessCheck, type ReadinessReport } from './readiness';
export { ProbesController, ProbesModule, READINESS } from './probes.module';
export { answerClientErrors, BoundedExpressAdapter, clientErrorResponse, httpLimitsFrom, httpLimitsShape, type HttpLimits } from './http-limits';
export { HTTP_STATUS, httpErrorOf, type HttpErrorResponse } from './error-response';
export { stopOnSignals } from './shutdown';
