import { createHash } from 'node:crypto';

/**
 * Names of the Kubernetes objects a data center makes (pure). Kubernetes names are DNS labels
 * (namespaces, services: at most 63 characters, lowercase, starting with a letter for services),
 * while Wharf's ids allow upper case, dots and underscores and up to 200 characters. A name that
 * had to be changed to fit, or that could be read as another id's name, carries a short hash of
 * the id, so two tenants (or components) never share one object.
 */

const DNS_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 6);
}

/** Lowercase letters, digits and '-', no leading/trailing '-'. */
function clean(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** A DNS-1035 label of at most `max` characters for `readable`, unique for `id`. */
function label(readable: string, id: string, max: number, alwaysHash: boolean): string {
  let base = clean(readable);
  if (!/^[a-z]/.test(base)) base = `x-${base}`.replace(/-+$/, '');
  const exact = !alwaysHash && base === readable && base.length <= max && DNS_1035.test(base);
  if (exact) return base;
  const suffix = `-${shortHash(id)}`;
  return `${base.slice(0, max - suffix.length).replace(/-+$/, '')}${suffix}`;
}

/**
 * The namespace of a tenant: `<prefix>-<tenant>`. A tenant id that is not already a clean
 * DNS label (upper case, dots, too long) gets a hash of the exact id ("Acme" and "acme" differ).
 */
export function namespaceName(prefix: string, tenantId: string): string {
  const readable = `${prefix}-${tenantId}`;
  return label(readable, `${prefix}/${tenantId}`, 63, false);
}

/**
 * The Deployment/StatefulSet (and its Service, Secret, budget) of a component, within its
 * tenant's namespace: `<app>-<component>-<hash of the component id>`. The hash is always there:
 * "a-b"/"c" and "a"/"b-c" join alike, and server-side apply would silently take over the other
 * component's objects. At most 52 characters: a StatefulSet's pods add "-<ordinal>" and a
 * controller-revision label of the pod name must stay within 63.
 */
export function workloadName(names: { app: string; component: string }, componentId: string): string {
  return label(`${names.app}-${names.component}`, componentId, 52, true);
}

export function envSecretName(workload: string): string {
  return `${workload}-env`;
}

export const NETWORK_POLICY_NAME = 'wharf-tenant-isolation';
