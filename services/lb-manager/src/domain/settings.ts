/** How the gateway's nginx is set up: from lb-manager's config, the same on every instance. */
export interface GatewaySettings {
  /** The data center's domain: default hosts are `<component>.<app>.<tenant>.<domain>`. */
  domain: string;
  /** Address nginx listens on for HTTP, HTTPS and TCP routes. */
  listenAddress: string;
  httpPort: number;
  httpsPort: number;
  /** nginx worker processes ("auto": one per core). */
  workerProcesses: number | 'auto';
  workerConnections: number;
  /** Connecting to a replica. */
  connectTimeoutS: number;
  /** Waiting for a replica between two reads or writes (a websocket idle this long is closed). */
  requestTimeoutS: number;
  /** A client's idle keep-alive connection. */
  idleTimeoutS: number;
  /** Reading a client's request head and body. */
  clientTimeoutS: number;
  clientMaxBodyMib: number;
  /** An idle TCP route session. */
  tcpIdleTimeoutS: number;
  /** How long old workers may finish their requests after a reload. */
  workerShutdownTimeoutS: number;
  /** Directory of nginx's dynamic modules (Debian: /usr/lib/nginx/modules). */
  modulesDir: string;
}

/** Where one nginx instance keeps its files: all under its own prefix, never the system's. */
export interface NginxPaths {
  prefix: string;
  /** The admin (http instance) or control (stream instance) unix socket. */
  socket: string;
}

export const nginxFile = (paths: NginxPaths, relative: string) => `${paths.prefix.replace(/\/+$/, '')}/${relative}`;

/** The gateway's own ports, which no TCP route may take. */
export const reservedPorts = (s: GatewaySettings) => [s.httpPort, s.httpsPort];
