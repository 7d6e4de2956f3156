import type { PathPrefixMode, ServiceKind } from "./model";

/**
 * How nginx serves a service's local sub-path when the configuration sets no
 * `pathPrefix`, by kind:
 * - CloudBeaver reads its base path from `CLOUDBEAVER_ROOT_URI` (the `rootURI`
 *   of its server configuration), and Grafana from `GF_SERVER_ROOT_URL` with
 *   `GF_SERVER_SERVE_FROM_SUB_PATH`; both are generated from the route.
 * - Homepage (a Next.js build without a base path) and Uptime Kuma 1.23 (no
 *   base-path setting) only run at `/`, so the local path redirects.
 * - Any other service keeps the behaviour nginx has always had: the prefix is
 *   stripped, which works for applications that use relative links only.
 */
export const DEFAULT_PATH_PREFIX: Readonly<
  Record<ServiceKind, PathPrefixMode>
> = {
  generic: "strip",
  prometheus: "strip",
  grafana: "keep",
  cloudbeaver: "keep",
  homepage: "redirect",
  "uptime-kuma": "redirect",
};

/**
 * Returns the base path an application runs under for a `keep` route, such as
 * `/dbeaver` for `/dbeaver/`, or undefined when it runs at `/`.
 */
export function basePathOf(route: {
  readonly localPath?: string;
  readonly pathPrefix: PathPrefixMode;
}): string | undefined {
  if (
    route.pathPrefix !== "keep" ||
    route.localPath === undefined ||
    route.localPath === "/"
  ) {
    return undefined;
  }
  return route.localPath.replace(/\/$/, "");
}
