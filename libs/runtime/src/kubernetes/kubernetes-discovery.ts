/**
 * Which API versions to use on a cluster, from its discovery document (pure). Wharf targets
 * Kubernetes 1.20 (what Debian ships, the test cluster) and current releases: EndpointSlice is
 * discovery.k8s.io/v1 from 1.21 (only v1beta1 before), PodDisruptionBudget policy/v1 from 1.21
 * (v1beta1 before, removed in 1.25). The newest version the cluster serves wins.
 */

export interface ApiGroupInfo {
  name: string;
  /** "group/version" strings, e.g. "policy/v1beta1". */
  versions: string[];
}

export interface ApiChoice {
  /** undefined: the cluster serves no EndpointSlice (endpoints are read from pods). */
  endpointSlice?: 'discovery.k8s.io/v1' | 'discovery.k8s.io/v1beta1';
  /** undefined: the cluster serves no PodDisruptionBudget (none is made). */
  podDisruptionBudget?: 'policy/v1' | 'policy/v1beta1';
}

function pick<T extends string>(groups: ApiGroupInfo[], group: string, preferred: readonly T[]): T | undefined {
  const served = new Set(groups.find((g) => g.name === group)?.versions ?? []);
  return preferred.find((v) => served.has(v));
}

export function chooseApiVersions(groups: ApiGroupInfo[]): ApiChoice {
  return {
    endpointSlice: pick(groups, 'discovery.k8s.io', ['discovery.k8s.io/v1', 'discovery.k8s.io/v1beta1'] as const),
    podDisruptionBudget: pick(groups, 'policy', ['policy/v1', 'policy/v1beta1'] as const),
  };
}

/** The groups of an APIGroupList (GET /apis). */
export function groupsOf(list: { groups?: { name?: string; versions?: { groupVersion?: string }[] }[] }): ApiGroupInfo[] {
  return (list.groups ?? []).map((g) => ({ name: g.name ?? '', versions: (g.versions ?? []).map((v) => v.groupVersion ?? '').filter(Boolean) }));
}
