/**
 * @wharf/webhooks: push-to-deploy webhooks, pure. api-gateway's receiver (POST
 * /api/v1/hooks/<hook id>, an opaque random id) calls decideWebhook with the component's
 * opened secret, its git source and the raw request; 401 starts nothing.
 */
export { decideWebhook, type WebhookDecision, type WebhookTarget } from './webhook';
export { deliveryIdOf, parsePushEvent, providerOf, repositoryKey, type Headers, type ParseResult, type Provider, type PushEvent } from './push-event';
export { newWebhookSecret, verifyGitlabToken, verifyHubSignature } from './signatures';
