/**
 * Pinned images used when the configuration names none. Each tag is a
 * release of the image's own publisher; change them in the configuration,
 * not here, to upgrade one deployment.
 */
export const DEFAULT_IMAGES = {
  /** Ignition 8.3 reads database connections and other settings from configuration resources in its data directory. */
  ignition: "inductiveautomation/ignition:8.3.0",
  /** nginx stable; every directive the generated configuration uses also exists in nginx 1.22. */
  nginx: "nginx:1.28.0-alpine",
  /**
   * The last cloudflared release of 2025. Its image has no shell, so the healthcheck runs
   * `cloudflared tunnel ready`, which queries the readiness endpoint of the metrics server.
   */
  cloudflared: "cloudflare/cloudflared:2025.11.1",
  postgres: "postgres:17.6-bookworm",
  /**
   * PgBouncer 1.25.2 in Alpine, rebuilt by its publisher; runs as `postgres` (uid 70), reads
   * /etc/pgbouncer/pgbouncer.ini and userlist.txt, and includes pg_isready for the healthcheck.
   */
  pgbouncer: "edoburu/pgbouncer:v1.25.2-p0",
  /**
   * Reads each stack's nginx stub_status. Its image is distroless, with no shell or HTTP client,
   * so the container has no healthcheck; Prometheus's `up` series shows whether it responds.
   */
  nginxExporter: "nginx/nginx-prometheus-exporter:1.5.1",
  /**
   * Runs PgBouncer's SHOW commands as the stats user. It reads the connection string from
   * `PGBOUNCER_EXPORTER_CONNECTION_STRING`, which keeps the password out of the command line.
   */
  pgbouncerExporter: "prometheuscommunity/pgbouncer-exporter:v0.12.0",
} as const;

/** Port of nginx-prometheus-exporter's `/metrics`. */
export const NGINX_EXPORTER_PORT = 9113;

/** Port of pgbouncer-exporter's `/metrics`. */
export const PGBOUNCER_EXPORTER_PORT = 9127;

/** Docker daemon used when neither the configuration nor a stack names one. */
export const DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock";

/** Shared networks that core creates, with subnets outside Docker's default address pools. */
export const DEFAULT_OPERATIONS_NETWORK = {
  name: "operations-network",
  subnet: "10.213.0.0/24",
} as const;
export const DEFAULT_ROUTING_NETWORK = {
  name: "routing-network",
  subnet: "10.213.1.0/24",
} as const;

/** Container ports of every Ignition gateway. */
export const IGNITION_PORTS = { http: 8088, https: 8043, gan: 8060 } as const;

/** Port that each stack's nginx serves its public virtual hosts on, inside routing-network. */
export const NGINX_PUBLIC_PORT = 80;

/** Port that each stack's nginx serves local path routes on; the host port maps to it. */
export const NGINX_LOCAL_PORT = 8080;

/** Port of cloudflared's metrics and readiness endpoint, which Prometheus scrapes over routing-network. */
export const CLOUDFLARED_METRICS_PORT = 20241;

/** Address cloudflared's metrics server listens on: every interface of the container, which publishes no host port. */
export const CLOUDFLARED_METRICS_ADDRESS = `0.0.0.0:${CLOUDFLARED_METRICS_PORT}`;

/** Address the healthcheck queries for readiness, from inside the container. */
export const CLOUDFLARED_READY_ADDRESS = `127.0.0.1:${CLOUDFLARED_METRICS_PORT}`;
