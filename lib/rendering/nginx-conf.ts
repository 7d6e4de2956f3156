/**
 * Renders the complete `nginx.conf` of one stack's reverse proxy.
 *
 * Upstream servers are fixed container addresses rather than Docker DNS
 * names. nginx resolves the names in `upstream` blocks once, at load time, and
 * fails to start with "host not found in upstream" when one container is
 * missing. Resolving at run time through a variable in `proxy_pass` avoids
 * that, but such a `proxy_pass` bypasses `upstream` blocks and so loses
 * upstream keepalive and consistent hashing. With fixed addresses nginx starts
 * with any upstream container absent (its host returns 502), keeps idle
 * upstream connections open, and balances pools by client address. Every
 * directive used here exists in nginx 1.22, the oldest version the tests run.
 */

/** One server of an upstream group. */
export interface NginxUpstreamServer {
  /** IPv4 address of the container on a network that nginx joins. */
  readonly address: string;

  /** Container port. */
  readonly port: number;

  /**
   * Relative share of new clients in a pool.
   * @default 1
   */
  readonly weight?: number;

  /**
   * Container name, written as a comment next to the address.
   * @default - no comment
   */
  readonly containerName?: string;
}

/** One service reached through nginx: by public hostname, by local path, or both. */
export interface NginxRoute {
  /** Name of the upstream group, unique in the stack; letters, digits, '-' and '_'. */
  readonly key: string;

  /**
   * Public hostname served as its own virtual host.
   * @default - no virtual host
   */
  readonly hostname?: string;

  /**
   * Path on the local port: `/` for its default, or one segment such as
   * `/highbyte/`.
   * @default - not reachable by path
   */
  readonly localPath?: string;

  /**
   * Mode in which a `localPath` other than `/` reaches the application.
   * `strip` removes the prefix from the path sent upstream. `keep` sends it
   * unchanged, for an application configured to serve under it, and redirects
   * `/` of its public hostname to the prefix. `redirect` responds to the path
   * with a redirect to the application's own host port, for an application
   * that cannot run under a prefix.
   * @default "strip"
   */
  readonly pathPrefix?: "strip" | "keep" | "redirect";

  /**
   * Host port that a `redirect` route sends the browser to.
   * @default - required with `pathPrefix: "redirect"`
   */
  readonly redirectPort?: number;

  /** Upstream servers; more than one makes a pool. */
  readonly servers: readonly NginxUpstreamServer[];

  /**
   * Keep each client on one server, keyed on the client address.
   * @default false
   */
  readonly sticky?: boolean;
}

/** Inputs of {@link renderNginxConfig}. */
export interface NginxConfigOptions {
  /** Stack id, used in comments and upstream names. */
  readonly stack: string;

  readonly routes: readonly NginxRoute[];

  /** Port of the public virtual hosts, reached by the tunnel. */
  readonly publicPort: number;

  /** Port of the local entry point with path routes and the health endpoint. */
  readonly localPort: number;

  /**
   * Address of the stack's cloudflared. Only requests from it may set the
   * client address through `CF-Connecting-IP`, and only they count as HTTPS.
   * @default - no request may set the client address
   */
  readonly trustedProxy?: string;

  /**
   * Time, in seconds, that a proxied connection may stay idle in either
   * direction (`proxy_read_timeout` and `proxy_send_timeout`). Perspective
   * sessions keep a WebSocket open and can be silent for long periods, so this
   * must be far above nginx's default of 60 seconds.
   * @default 3600
   */
  readonly websocketTimeoutSeconds?: number;

  /**
   * Path of the health endpoint on both ports.
   * @default "/nginx-health"
   */
  readonly healthPath?: string;
}

/** Path of the health endpoint that the container's healthcheck requests. */
export const NGINX_HEALTH_PATH = "/nginx-health";

/** Path of nginx's stub_status, served on the local port to loopback and private addresses only. */
export const NGINX_STATUS_PATH = "/nginx-status";

/** Default of {@link NginxConfigOptions.websocketTimeoutSeconds}: one hour. */
export const NGINX_WEBSOCKET_TIMEOUT_SECONDS = 3600;

/**
 * Seconds that nginx keeps an idle upstream connection. Node.js servers
 * (Homepage, Uptime Kuma) close idle connections after 5 seconds by default;
 * closing earlier on the nginx side keeps nginx from sending a request on a
 * connection that the upstream is closing at that moment, which fails the
 * request and, in a pool, marks a healthy member as failed.
 */
export const NGINX_UPSTREAM_KEEPALIVE_SECONDS = 4;

/**
 * Idle upstream connections that each nginx worker keeps per upstream group.
 * A connection that finishes while this many are idle is closed, so requests
 * running at once beyond it open new connections. With 32, wrk at 50
 * concurrent requests made nginx open one upstream connection per 27 requests
 * and doubled p99 latency (docs/benchmarks.md). Idle connections close after
 * {@link NGINX_UPSTREAM_KEEPALIVE_SECONDS}, so a high value costs little.
 */
export const NGINX_UPSTREAM_KEEPALIVE_CONNECTIONS = 128;

const IPV4 =
  /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Returns the text of `/etc/nginx/nginx.conf` for the stack. */
export function renderNginxConfig(options: NginxConfigOptions): string {
  validateOptions(options);
  const timeout =
    options.websocketTimeoutSeconds ?? NGINX_WEBSOCKET_TIMEOUT_SECONDS;
  const healthPath = options.healthPath ?? NGINX_HEALTH_PATH;

  const lines: string[] = [
    `# nginx configuration of the ${options.stack} stack, generated by proveit-stacks.`,
    "# Changes made inside the container are lost when Terraform replaces it.",
    "worker_processes auto;",
    "error_log stderr warn;",
    "",
    "events {",
    "  worker_connections 4096;",
    "}",
    "",
    "http {",
    "  access_log /dev/stdout;",
    "  server_tokens off;",
    "  sendfile on;",
    "  # Ignition and other upstreams use header names with underscores, which nginx drops by default.",
    "  underscores_in_headers on;",
    "  # Gateway backups and module uploads are large.",
    "  client_max_body_size 2g;",
    "  # Redirects of nginx itself (such as /backend to /backend/) stay relative, because the",
    "  # host port that a browser used is not the port that nginx listens on.",
    "  absolute_redirect off;",
    "",
    ...renderForwardingMaps(options.trustedProxy),
    ...renderProxyDefaults(options.trustedProxy !== undefined, timeout),
  ];

  for (const route of options.routes) {
    lines.push(...renderUpstream(options.stack, route));
  }

  lines.push(
    "  # Unknown hosts on the public port.",
    "  server {",
    `    listen ${options.publicPort} default_server;`,
    "    server_name _;",
    ...renderHealthLocation(healthPath),
    "    location / {",
    "      return 404;",
    "    }",
    "  }",
    "",
  );

  for (const route of options.routes) {
    if (route.hostname) {
      lines.push(
        "  server {",
        `    listen ${options.publicPort};`,
        `    listen ${options.localPort};`,
        `    server_name ${route.hostname};`,
        ...renderPublicLocations(route, upstreamName(options.stack, route.key)),
        "  }",
        "",
      );
    }
  }

  lines.push(...renderLocalServer(options, healthPath), "}", "");
  return lines.join("\n");
}

function validateOptions(options: NginxConfigOptions): void {
  for (const route of options.routes) {
    if (
      route.pathPrefix === "redirect" &&
      route.localPath !== "/" &&
      route.redirectPort === undefined
    ) {
      throw new Error(
        `nginx route "${route.key}" of stack ${options.stack} redirects its path but has no redirectPort: set it to the application's HTTP host port`,
      );
    }
    if (route.servers.length === 0) {
      throw new Error(
        `nginx route "${route.key}" of stack ${options.stack} has no upstream server: give it at least one`,
      );
    }
    for (const server of route.servers) {
      // A name here would make nginx resolve it at load time and fail to start while that container is missing.
      if (!IPV4.test(server.address)) {
        throw new Error(
          `nginx route "${route.key}" of stack ${options.stack} has upstream address "${server.address}", which is not an IPv4 address: give the container a fixed address`,
        );
      }
    }
  }
  const timeout = options.websocketTimeoutSeconds;
  if (timeout !== undefined && !(Number.isInteger(timeout) && timeout > 0)) {
    throw new Error(
      `nginx websocketTimeoutSeconds of stack ${options.stack} is ${timeout}: use a whole number of seconds above 0`,
    );
  }
}

function upstreamName(stack: string, key: string): string {
  return `${stack}_${key}`.replace(/[^A-Za-z0-9_]/g, "_");
}

/** Renders the variables that the proxy headers use: upgrade handling, the forwarded host, and what the tunnel may set. */
function renderForwardingMaps(trustedProxy: string | undefined): string[] {
  const lines = [
    "  # WebSocket upgrades get `Connection: upgrade`. Plain requests get an empty Connection",
    "  # header, which nginx leaves out, so the upstream connection stays open for the next request.",
    "  map $http_upgrade $connection_upgrade {",
    "    default upgrade;",
    '    "" "";',
    "  }",
    "",
    "  # The Host header as the client sent it, port included, so that upstreams build",
    "  # redirects to the host port in use, or $host when the client sent none.",
    "  map $http_host $forwarded_host {",
    '    "" $host;',
    "    default $http_host;",
    "  }",
    "",
  ];
  if (trustedProxy) {
    lines.push(
      "  # Requests from this stack's cloudflared carry the visitor's address in CF-Connecting-IP",
      "  # and reached Cloudflare over HTTPS. From any other address the header is ignored, so",
      "  # $remote_addr stays the socket address and a client cannot choose its pool member.",
      `  set_real_ip_from ${trustedProxy};`,
      "  real_ip_header CF-Connecting-IP;",
      "  geo $realip_remote_addr $via_tunnel {",
      "    default 0;",
      `    ${trustedProxy} 1;`,
      "  }",
      "  map $via_tunnel $forwarded_proto {",
      "    1 https;",
      "    default $scheme;",
      "  }",
      "  map $via_tunnel $forwarded_cf_connecting_ip {",
      "    1 $http_cf_connecting_ip;",
      '    default "";',
      "  }",
      "",
    );
  }
  return lines;
}

/**
 * Renders the proxy settings that every location inherits. No location sets
 * its own `proxy_set_header`, because one there would drop all of these.
 */
function renderProxyDefaults(
  viaTunnel: boolean,
  timeoutSeconds: number,
): string[] {
  return [
    "  proxy_http_version 1.1;",
    "  proxy_set_header Host $forwarded_host;",
    "  proxy_set_header X-Forwarded-Host $forwarded_host;",
    "  # The address that nginx trusts, not a chain the client may have forged.",
    "  proxy_set_header X-Real-IP $remote_addr;",
    "  proxy_set_header X-Forwarded-For $remote_addr;",
    `  proxy_set_header X-Forwarded-Proto ${viaTunnel ? "$forwarded_proto" : "$scheme"};`,
    `  proxy_set_header CF-Connecting-IP ${viaTunnel ? "$forwarded_cf_connecting_ip" : '""'};`,
    "  proxy_set_header Upgrade $http_upgrade;",
    "  proxy_set_header Connection $connection_upgrade;",
    "  proxy_connect_timeout 5s;",
    `  proxy_read_timeout ${timeoutSeconds}s;`,
    `  proxy_send_timeout ${timeoutSeconds}s;`,
    "",
  ];
}

function renderUpstream(stack: string, route: NginxRoute): string[] {
  const name = upstreamName(stack, route.key);
  // In a shared zone, a member that failed is skipped by every worker, not only by the one that saw it fail.
  const lines = [`  upstream ${name} {`, `    zone ${name} 64k;`];
  if (route.sticky) {
    // After the realip module, $remote_addr is CF-Connecting-IP for requests from the stack's cloudflared.
    lines.push("    hash $remote_addr consistent;");
  }
  for (const server of route.servers) {
    const weight =
      server.weight !== undefined && server.weight !== 1
        ? ` weight=${server.weight}`
        : "";
    const comment = server.containerName ? `  # ${server.containerName}` : "";
    lines.push(
      `    server ${server.address}:${server.port}${weight} max_fails=1 fail_timeout=10s;${comment}`,
    );
  }
  lines.push(
    `    keepalive ${NGINX_UPSTREAM_KEEPALIVE_CONNECTIONS};`,
    `    keepalive_timeout ${NGINX_UPSTREAM_KEEPALIVE_SECONDS}s;`,
    "  }",
    "",
  );
  return lines;
}

function renderHealthLocation(healthPath: string): string[] {
  return [
    `    location = ${healthPath} {`,
    "      access_log off;",
    "      default_type text/plain;",
    '      return 200 "ok\\n";',
    "    }",
  ];
}

/** Renders a location that proxies to an upstream group, removing `path` from the upstream path when `strip` is set. */
function renderProxyLocation(
  path: string,
  upstream: string,
  strip = path !== "/",
): string[] {
  const target = strip ? `http://${upstream}/` : `http://${upstream}`;
  return [`    location ${path} {`, `      proxy_pass ${target};`, "    }"];
}

/** Renders the locations of a route's public virtual host: the whole host, or its prefix with `/` redirected to it. */
function renderPublicLocations(route: NginxRoute, upstream: string): string[] {
  if (
    route.pathPrefix === "keep" &&
    route.localPath &&
    route.localPath !== "/"
  ) {
    return [
      `    location = / {`,
      `      return 302 ${route.localPath};`,
      "    }",
      ...renderProxyLocation("/", upstream, false),
    ];
  }
  return renderProxyLocation("/", upstream, false);
}

/** Renders a route's location on the local port, by its path-prefix mode. */
function renderLocalLocation(route: NginxRoute, upstream: string): string[] {
  const path = route.localPath!;
  if (path !== "/" && route.pathPrefix === "redirect") {
    // $host is the name the browser used for the local port, such as localhost. The rest of the
    // path and the query string follow the redirect.
    const target = `http://$host:${route.redirectPort}/`;
    return [
      `    location = ${path.slice(0, -1)} {`,
      `      return 302 ${target};`,
      "    }",
      `    location ^~ ${path} {`,
      `      rewrite ^${path}(.*)$ ${target}$1 redirect;`,
      "    }",
    ];
  }
  return renderProxyLocation(
    path,
    upstream,
    path !== "/" && route.pathPrefix !== "keep",
  );
}

/** Renders the local entry point: health, status, and the path routes, with 404 when no route takes `/`. */
function renderLocalServer(
  options: NginxConfigOptions,
  healthPath: string,
): string[] {
  const lines = [
    "  # Local entry point: path routes for access without a public hostname.",
    "  server {",
    `    listen ${options.localPort} default_server;`,
    "    server_name _;",
    ...renderHealthLocation(healthPath),
    `    location = ${NGINX_STATUS_PATH} {`,
    "      stub_status;",
    "      access_log off;",
    "      allow 127.0.0.0/8;",
    "      allow 10.0.0.0/8;",
    "      allow 172.16.0.0/12;",
    "      allow 192.168.0.0/16;",
    "      deny all;",
    "    }",
  ];
  let hasDefault = false;
  for (const route of options.routes) {
    if (route.localPath) {
      hasDefault = hasDefault || route.localPath === "/";
      lines.push(
        ...renderLocalLocation(route, upstreamName(options.stack, route.key)),
      );
    }
  }
  if (!hasDefault) {
    lines.push("    location / {", "      return 404;", "    }");
  }
  lines.push("  }");
  return lines;
}
