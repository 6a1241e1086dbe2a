import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '@wharf/errors';

/** A docker image reference, parsed after the grammar of distribution/reference. */
export interface ImageRef {
  /** Registry host[:port]; "" for Docker Hub names without one. */
  registry: string;
  /** Repository path, e.g. "team/app". */
  repository: string;
  tag?: string;
  digest?: string;
}

const DOMAIN = /^(?:localhost|(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?))*|\[[0-9A-Fa-f:]+\])(?::\d{1,5})?$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

const bad = (field: string, why: string) => new InvalidArgumentError(`${field}: ${why}`, { field });

export function parseImageRef(raw: string, field = 'source.image.image'): ImageRef {
  const text = raw.trim();
  if (!text) throw bad(field, 'is required');
  if (text.length > 512) throw bad(field, 'is longer than 512 characters');
  if (text.startsWith('-')) throw bad(field, `${JSON.stringify(text)} looks like a command-line option, not an image`);
  if (/\s/.test(text) || text.includes('://')) throw bad(field, `${JSON.stringify(text)} is not an image reference (like registry:5000/team/app:1.0)`);
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad(field, `digest ${JSON.stringify(digest)} is not sha256:<64 hex digits>`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(field, `tag ${JSON.stringify(tag)} is not a valid tag`);
  }
  const parts = rest.split('/');
  let registry = '';
  if (parts.length > 1 && (parts[0].includes('.') || parts[0].includes(':') || parts[0] === 'localhost')) {
    registry = parts.shift()!;
    if (!DOMAIN.test(registry)) throw bad(field, `registry ${JSON.stringify(registry)} is not a host[:port]`);
  }
  if (!parts.length || parts.some((p) => !PATH_COMPONENT.test(p))) {
    throw bad(field, `repository ${JSON.stringify(parts.join('/'))} must be lowercase letters and digits separated by . _ - or /`);
  }
  return { registry, repository: parts.join('/'), tag, digest };
}

/** The reference as docker takes it; a name without tag or digest means :latest. */
export function formatImageRef(ref: ImageRef): string {
  const name = ref.registry ? `${ref.registry}/${ref.repository}` : ref.repository;
  if (ref.digest) return `${name}${ref.tag ? `:${ref.tag}` : ''}@${ref.digest}`;
  return `${name}:${ref.tag ?? 'latest'}`;
}

/** A repository path component from any id: lowercase, separators kept, everything else '-'. */
function component(id: string): string {
  const c = id
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/[._-]{2,}/g, '-')
    .replace(/^[._-]+|[._-]+$/g, '');
  return c || 'x';
}

/** Where a component's versions live in the data center's registry: "<registry>/<tenant>/<component>". */
export function componentRepository(registry: string, tenantId: string, componentId: string): string {
  return `${registry}/${component(tenantId)}/${component(componentId)}`;
}

/**
 * A build's version id, derived from its event id: the same build task, delivered again
 * after a crash, makes the same version (same tag, one VersionRecorded).
 */
export function versionIdOf(eventId: string): string {
  return `v-${createHash('sha256').update(eventId).digest('hex').slice(0, 16)}`;
}

/** The cache-mount scope of a component (cache ids allow letters, digits, - and _). */
export function cacheScopeOf(tenantId: string, componentId: string): string {
  const scope = `${component(tenantId)}-${component(componentId)}`.replace(/\./g, '_');
  return scope.length <= 80 ? scope : `${scope.slice(0, 60)}-${createHash('sha256').update(scope).digest('hex').slice(0, 12)}`;
}
