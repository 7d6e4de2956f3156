import type { Deployment } from "../config/model";

/** One HTTP monitor to add in Uptime Kuma's web UI. */
export interface UptimeKumaMonitor {
  /** Friendly name, `<stack>/<route key>`. */
  readonly name: string;
  readonly url: string;
  /** Accepted status codes in Uptime Kuma's notation, checked after following redirects. */
  readonly acceptedStatusCodes: string;
}

/**
 * Lists one HTTP monitor per public hostname of every stack published through
 * Cloudflare. Uptime Kuma 1.23 and 2.0 keep monitors in their own database and
 * read none from files, so this list is printed as a Terraform output for a
 * person to enter.
 */
export function uptimeKumaMonitors(
  deployment: Deployment,
): UptimeKumaMonitor[] {
  return deployment.stacks.flatMap((stack) =>
    stack.tunnel
      ? stack.routes.flatMap((route) =>
          route.hostname
            ? [
                {
                  name: `${stack.id}/${route.key}`,
                  url: `https://${route.hostname}/`,
                  acceptedStatusCodes: "200-299",
                },
              ]
            : [],
        )
      : [],
  );
}
