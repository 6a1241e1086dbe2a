/**
 * @wharf/routing: the rules of gateway routes, shared by where routes are written (api-gateway:
 * refuse bad input with 400, a taken host+path or TCP port with 409 naming the owner) and where
 * they are served (lb-manager: skip what is wrong, the oldest claim wins).
 */
export {
  defaultHosts,
  hostProblem,
  isDnsLabel,
  listenPortProblem,
  normalizePathPrefix,
  pathMatches,
  pathPrefixProblem,
  underDomain,
  type ComponentNames,
  type RouteProblem,
} from './names';
export { claimKey, claimsOf, describeClaim, type ClaimOptions, type RouteClaim, type RoutedSpec } from './claims';
export { assertNoRouteConflicts, routeConflicts, type OwnedClaims, type RouteConflict, type RouteOwner } from './ownership';
export { checkCertificate, type CertificateCheck } from './certificate';
