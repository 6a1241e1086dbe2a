import { deliveryIdOf, parsePushEvent, providerOf, repositoryKey, header, type Headers, type Provider, type PushEvent } from './push-event';
import { verifyGitlabToken, verifyHubSignature } from './signatures';

/** The component a webhook URL belongs to, as far as deciding on a push needs. */
export interface WebhookTarget {
  /** The webhook's secret (opened from its sealed form by the caller). */
  secret: string;
  /** The component's git source. */
  gitUrl: string;
  branch: string;
}

export type WebhookDecision =
  /** Start a build of exactly this commit that deploys when it succeeds (202); deliveryId: the host's id of the delivery, if it sent one. */
  | { status: 202; action: 'build'; push: PushEvent; commit: string; deliveryId?: string }
  /** The host's ping when the webhook is saved: it works, nothing to build. */
  | { status: 200; action: 'ignore'; reason: string }
  /** Understood, nothing to do (202, so the git host does not retry): another branch, a ping, a deleted branch. */
  | { status: 202; action: 'ignore'; reason: string }
  /** Signature or token missing or wrong: nothing starts, nothing is said about the component. */
  | { status: 401; action: 'reject'; reason: string }
  /** Signed, but not a push event this could read. */
  | { status: 400; action: 'reject'; reason: string };

/**
 * The whole of a push-to-deploy webhook request, pure: which host sent it, whether it is
 * signed with the component's own secret (GitHub-style X-Hub-Signature-256 HMAC of the raw
 * body, or GitLab's X-Gitlab-Token), what was pushed, and whether that starts a build of the
 * component (a push of its branch, in its repository). api-gateway's route answers the
 * status and, for "build", enqueues a build task with deploy_after and options.ref = commit.
 */
export function decideWebhook(target: WebhookTarget, headers: Headers, rawBody: Buffer): WebhookDecision {
  const provider: Provider | undefined = providerOf(headers);
  if (!provider) return { status: 401, action: 'reject', reason: 'no X-Hub-Signature-256 or X-Gitlab-Token header' };
  const signed =
    provider === 'github'
      ? verifyHubSignature(target.secret, rawBody, header(headers, 'x-hub-signature-256'))
      : verifyGitlabToken(target.secret, header(headers, 'x-gitlab-token'));
  if (!signed) return { status: 401, action: 'reject', reason: provider === 'github' ? 'bad or missing X-Hub-Signature-256' : 'bad or missing X-Gitlab-Token' };
  const parsed = parsePushEvent(provider, headers, rawBody);
  if (parsed.kind === 'invalid') return { status: 400, action: 'reject', reason: parsed.reason };
  if (parsed.kind === 'ignored') return { status: parsed.ping ? 200 : 202, action: 'ignore', reason: parsed.reason };
  const push = parsed.push;
  const want = repositoryKey(target.gitUrl);
  if (want && push.repositoryUrls.length && !push.repositoryUrls.some((u) => repositoryKey(u) === want)) {
    return { status: 202, action: 'ignore', reason: `a push to another repository (${push.repositoryUrls[0]}), not ${target.gitUrl}` };
  }
  if (push.tag !== undefined) return { status: 202, action: 'ignore', reason: `a tag push (${push.tag}): the component follows branch ${target.branch}` };
  if (push.branch !== (target.branch || 'main'))
    return { status: 202, action: 'ignore', reason: `a push to branch ${push.branch}, the component follows ${target.branch || 'main'}` };
  if (push.deleted) return { status: 202, action: 'ignore', reason: `branch ${push.branch} was deleted` };
  const deliveryId = deliveryIdOf(provider, headers);
  return { status: 202, action: 'build', push, commit: push.commit, ...(deliveryId ? { deliveryId } : {}) };
}
