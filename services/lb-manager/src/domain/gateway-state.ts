/**
 * What the gateway should serve, computed from the routes (event store) and the ready
 * endpoints (app-manager, etcd). Everything here has been checked: hosts and paths by
 * @wharf/routing, addresses as IP literals, certificates against their host and the clock.
 * The renderers turn it into nginx config text and the Lua routing table; nothing else does.
 */

/** Names a request or session is logged with (the component's labels). */
export interface ComponentLabels {
  componentId: string;
  tenant: string;
  app: string;
  component: string;
}

/** One ready replica: an IP literal and a port. */
export interface Peer {
  address: string;
  port: number;
}

/** A component's port with its ready replicas (empty: answered with the no-ready-replica page). */
export interface Upstream {
  /** `<component id>:<port>` */
  key: string;
  labels: ComponentLabels;
  peers: Peer[];
}

export interface HttpRule {
  host: string;
  /** Normalized: no trailing "/" except the root. */
  pathPrefix: string;
  upstream: string;
  httpsRedirect: boolean;
}

export interface TlsCertificate {
  host: string;
  certificatePem: string;
  privateKeyPem: string;
}

export interface TcpRoute {
  listenPort: number;
  upstream: Upstream;
}

/** A route or certificate the gateway does not serve, and why (logged, in /routes, counted in metrics). */
export interface Rejection {
  componentId: string;
  /** `routes[0].host`, `tcp_ports[1]`, `tls shop.example.com`, ... */
  what: string;
  reason: string;
}

export interface GatewayState {
  rules: HttpRule[];
  upstreams: Upstream[];
  certificates: TlsCertificate[];
  tcp: TcpRoute[];
  rejections: Rejection[];
}
