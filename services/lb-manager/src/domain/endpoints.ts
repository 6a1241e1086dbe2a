import { fromJsonString } from '@bufbuild/protobuf';
import { appmanagerV1 } from '@wharf/contracts';
import { isIP } from 'node:net';

/** A component's ready replicas as the gateway uses them: IP literals only. */
export interface ReadyEndpoints {
  componentId: string;
  addresses: string[];
}

export type ParsedEndpoints = { ok: true; value: ReadyEndpoints; dropped: string[] } | { ok: false; reason: string };

/**
 * Reads `<root>/endpoints/<component_id>` (wharf.appmanager.v1.ComponentEndpoints, proto3 JSON,
 * written by app-manager). An address that is not an IP literal is dropped and reported: it
 * would otherwise reach nginx's config (TCP routes) or the balancer.
 */
export function parseComponentEndpoints(componentId: string, text: string): ParsedEndpoints {
  let message: appmanagerV1.ComponentEndpoints;
  try {
    message = fromJsonString(appmanagerV1.ComponentEndpointsSchema, text, { ignoreUnknownFields: true });
  } catch (err) {
    return { ok: false, reason: `not a ComponentEndpoints JSON: ${(err as Error).message}` };
  }
  if (message.componentId !== '' && message.componentId !== componentId) {
    return { ok: false, reason: `names component ${message.componentId}, but is stored under ${componentId}` };
  }
  const addresses: string[] = [];
  const dropped: string[] = [];
  for (const e of message.endpoints) {
    if (isIP(e.address) !== 0) addresses.push(e.address);
    else dropped.push(e.address);
  }
  return { ok: true, value: { componentId, addresses: [...new Set(addresses)].sort() }, dropped };
}
