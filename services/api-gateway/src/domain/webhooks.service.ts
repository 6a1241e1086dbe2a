import { create } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import { ConflictError, FailedPreconditionError, invalidArgument, NotFoundError, UnauthenticatedError } from '@wharf/errors';
import type { Principal } from '@wharf/identity';
import { decideWebhook, newWebhookSecret, type Headers } from '@wharf/webhooks';
import { createHash } from 'node:crypto';
import type { ComponentView, WebhookView } from './catalog';
import type { GatewayContext } from './gateway-context';
import { expectedVersion } from './if-match';
import type { OperationsService } from './operations.service';
import type { SecretSealer } from './secret-sealer';

/** The receiver's path; the id is random, so the URL names no tenant or component. */
export const HOOKS_PATH = '/api/v1/hooks';
const HOOK_ID = /^[0-9a-f]{32}$/;

/** The context a webhook's secret is sealed for: copied onto another component or hook, it does not open. */
export const webhookSecretContext = (componentId: string, hookId: string) => `${componentId}/webhook:${hookId}`;

/**
 * The operation id of a delivery: the same for the same delivery id at the same webhook, so a
 * redelivered (or replayed) push finds the operation it started instead of starting another.
 * A UUID-shaped digest (version nibble 8, RFC 9562's custom kind).
 */
export function deliveryEventId(hookId: string, deliveryId: string): string {
  const h = createHash('sha256').update(`webhook:${hookId}:${deliveryId}`).digest('hex');
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `evt-${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export interface WebhookInfo {
  hook_id: string;
  /** Where the git host posts: HOOKS_PATH/<hook_id> (the HTTP edge makes it a URL). */
  path: string;
  branch: string;
  created_at_ms: number;
  rotated_at_ms: number;
}

/** What the receiver answers when it does not fail: the HTTP status and its body. */
export interface HookAnswer {
  status: 200 | 202;
  body:
    | { action: 'build'; event_id: string; queued: boolean; commit: string; branch: string }
    | { action: 'duplicate'; event_id: string; reason: string }
    | { action: 'ignored'; reason: string };
}

const info = (c: ComponentView, w: WebhookView): WebhookInfo => ({
  hook_id: w.hookId,
  path: `${HOOKS_PATH}/${w.hookId}`,
  branch: c.spec.source.case === 'git' ? c.spec.source.value.branch || 'main' : '',
  created_at_ms: w.createdAtMs,
  rotated_at_ms: w.rotatedAtMs,
});

/**
 * Push-to-deploy: a component's webhook (create, rotate, show, delete; events in its stream,
 * the secret sealed) and the receiver, which verifies the git host's signature with that
 * secret (@wharf/webhooks' decideWebhook) and starts a build that deploys, as the operations
 * route does. The receiver has no caller to authorise: the signature is its authentication.
 */
export class WebhooksService {
  constructor(
    private readonly ctx: GatewayContext,
    private readonly sealer: SecretSealer,
    private readonly operations: OperationsService,
  ) {}

  private gitComponent(p: Principal, tenantId: string, componentId: string): ComponentView {
    const c = this.ctx.componentFor(p, tenantId, componentId, 'write');
    if (c.spec.source.case !== 'git')
      throw new FailedPreconditionError(`component ${componentId} is deployed from an image: a push webhook needs a git source`, { reason: 'no_git_source' });
    return c;
  }

  /** Creates the webhook, or rotates its secret (same URL); the secret is in this answer only. */
  async setWebhook(p: Principal, tenantId: string, componentId: string, ifMatch?: number): Promise<WebhookInfo & { secret: string; created: boolean }> {
    const c = this.gitComponent(p, tenantId, componentId);
    const expected = expectedVersion(`component ${componentId}`, c.version, ifMatch);
    const created = !c.webhook;
    const hookId = c.webhook?.hookId ?? this.ctx.ids.hex(16);
    if (created && this.ctx.catalog.webhooks.has(hookId)) throw new ConflictError('a webhook id was drawn twice; retry');
    const secret = newWebhookSecret(this.ctx.ids);
    const sealedSecret = this.sealer.seal(secret, webhookSecretContext(componentId, hookId));
    await this.ctx.append(`component/${componentId}`, [create(eventsV1.WebhookSetSchema, { componentId, hookId, sealedSecret })], expected, p);
    const now = this.ctx.catalog.components.get(componentId)!;
    return { ...info(now, now.webhook!), secret, created };
  }

  getWebhook(p: Principal, tenantId: string, componentId: string): WebhookInfo {
    const c = this.ctx.componentFor(p, tenantId, componentId, 'write');
    if (!c.webhook) throw new NotFoundError(`component ${componentId} has no webhook`);
    return info(c, c.webhook);
  }

  async removeWebhook(p: Principal, tenantId: string, componentId: string, ifMatch?: number): Promise<void> {
    const c = this.ctx.componentFor(p, tenantId, componentId, 'write');
    if (!c.webhook) throw new NotFoundError(`component ${componentId} has no webhook`);
    const expected = expectedVersion(`component ${componentId}`, c.version, ifMatch);
    await this.ctx.append(`component/${componentId}`, [create(eventsV1.WebhookRemovedSchema, { componentId, hookId: c.webhook.hookId })], expected, p);
  }

  /**
   * A delivery from a git host. Unknown hook: 404 (the same for every id, well-formed or
   * not). Bad or missing signature: 401, nothing starts. A push of the component's branch:
   * a build of the pushed commit that deploys (202, its event_id), queued behind a running
   * operation; a delivery id seen before answers the operation it started (200).
   */
  async receive(hookId: string, headers: Headers, rawBody: Buffer): Promise<HookAnswer> {
    const componentId = HOOK_ID.test(hookId) ? this.ctx.catalog.webhooks.get(hookId) : undefined;
    const c = componentId ? this.ctx.catalog.components.get(componentId) : undefined;
    if (!c || c.deleted || c.webhook?.hookId !== hookId) throw new NotFoundError('no such webhook');
    let secret: string;
    try {
      secret = this.sealer.open(Buffer.from(c.webhook.sealedSecret, 'base64'), webhookSecretContext(c.id, hookId));
    } catch {
      throw new FailedPreconditionError("the webhook's secret does not open with this data center's secret key (was WHARF_SECRET_KEY changed?); rotate it", {
        reason: 'secret_unreadable',
      });
    }
    const git = c.spec.source.case === 'git' ? c.spec.source.value : undefined;
    const d = decideWebhook({ secret, gitUrl: git?.url ?? '', branch: git?.branch ?? '' }, headers, rawBody);
    switch (d.action) {
      case 'reject':
        if (d.status === 401) throw new UnauthenticatedError(d.reason);
        throw invalidArgument('body', d.reason);
      case 'ignore':
        return { status: d.status, body: { action: 'ignored', reason: d.reason } };
      case 'build':
        break;
    }
    if (!git)
      throw new FailedPreconditionError(`component ${c.id} is deployed from an image now: a push does not build it; delete the webhook`, {
        reason: 'no_git_source',
      });
    const eventId = d.deliveryId ? deliveryEventId(hookId, d.deliveryId) : undefined;
    const seen = () =>
      eventId && this.ctx.catalog.operations.has(eventId)
        ? ({ status: 200, body: { action: 'duplicate', event_id: eventId, reason: `delivery ${d.deliveryId} was received before` } } as const)
        : undefined;
    const answer = seen();
    if (answer) return answer;
    // A push waits behind a running operation; a change of the component meanwhile (409) is retried with its new version.
    for (let attempt = 1; ; attempt++) {
      const now = this.ctx.catalog.components.get(c.id);
      if (!now || now.deleted || now.webhook?.hookId !== hookId) throw new NotFoundError('no such webhook');
      try {
        const started = await this.operations.startOperation(
          now,
          { kind: 'build', deploy_after: true, queue: true },
          { actor: `webhook:${hookId}`, eventId, buildRef: d.commit },
        );
        return { status: 202, body: { action: 'build', ...started, commit: d.commit, branch: d.push.branch ?? '' } };
      } catch (err) {
        const again = err instanceof ConflictError ? seen() : undefined;
        if (again) return again;
        if (!(err instanceof ConflictError) || attempt >= 3) throw err;
      }
    }
  }
}
