import type { ConfigIssue, FieldPath } from "./errors";
import type { CertificatePackSpec, StackSpec } from "./model";
import { dnsLabel, ProveitConfig } from "./schema";

/** Most hosts one Advanced Certificate Manager pack may list (Cloudflare API, certificate pack order). */
export const MAX_CERTIFICATE_HOSTS = 50;

const HOSTS_PATH: FieldPath = ["cloudflare", "certificateHosts"];

/** The edge certificate pack of a deployment, with the problems found in it. */
export interface CertificatePlan {
  /** Absent when no stack is published or no pack host is needed. */
  readonly pack?: CertificatePackSpec;
  readonly issues: readonly ConfigIssue[];
}

/**
 * Returns whether a certificate name covers a hostname. A wildcard such as
 * `*.mes.example.com` covers exactly one label in place of the `*`
 * (`ignition.mes.example.com`), never the name it is built on
 * (`mes.example.com`) and never two labels (`a.b.mes.example.com`).
 */
export function certificateCovers(
  certificateHost: string,
  hostname: string,
): boolean {
  if (!certificateHost.startsWith("*.")) {
    return certificateHost === hostname;
  }
  const base = certificateHost.slice(2);
  if (!hostname.endsWith(`.${base}`)) {
    return false;
  }
  const label = hostname.slice(0, -(base.length + 1));
  return label.length > 0 && !label.includes(".");
}

/** Names that Universal SSL covers in every zone: the apex and one level of subdomain. */
export function universalSslHosts(domain: string): string[] {
  return [domain, `*.${domain}`];
}

/**
 * Works out the hosts of the Advanced Certificate Manager pack and checks
 * that every public hostname of a stack published through Cloudflare has an
 * edge certificate, from Universal SSL or from the pack. Hostnames of stacks
 * without Cloudflare are served on local ports only and need none.
 *
 * @param hostnamePaths field path of each public hostname, for messages
 */
export function planCertificates(
  config: ProveitConfig,
  stacks: readonly StackSpec[],
  hostnamePaths: ReadonlyMap<string, FieldPath>,
): CertificatePlan {
  const domain = config.domain;
  const published = stacks.filter((stack) => stack.tunnel !== undefined);
  const explicit = config.cloudflare?.certificateHosts;
  const issues: ConfigIssue[] = [];

  if (explicit) {
    issues.push(...checkHosts(explicit, domain));
  }
  const hosts = explicit ? [...explicit] : defaultHosts(config, published);
  const covering = [...universalSslHosts(domain), ...hosts];

  for (const stack of published) {
    for (const route of stack.routes) {
      const hostname = route.hostname;
      if (
        !hostname ||
        covering.some((host) => certificateCovers(host, hostname))
      ) {
        continue;
      }
      issues.push({
        path: hostnamePaths.get(hostname) ?? ["stacks", stack.id],
        message: `no edge certificate covers ${hostname}: Universal SSL covers only ${domain} and *.${domain}, and no certificate host matches it`,
        fix: `add ${wildcardFor(hostname)} to cloudflare.certificateHosts, or remove certificateHosts to use the default list`,
        value: hostname,
      });
    }
  }

  const pack = published.length > 0 && hosts.length > 0 ? { hosts } : undefined;
  return { pack, issues };
}

/** Returns the apex and one wildcard per published stack label, for nested hostnames only. */
function defaultHosts(
  config: ProveitConfig,
  published: readonly StackSpec[],
): string[] {
  if ((config.hostnames ?? "nested") === "flat" || published.length === 0) {
    return [];
  }
  return [
    config.domain,
    ...published.map((stack) => `*.${stack.label}.${config.domain}`),
  ];
}

function checkHosts(hosts: readonly string[], domain: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const seen = new Map<string, number>();
  hosts.forEach((host, index) => {
    const path: FieldPath = [...HOSTS_PATH, index];
    const problem = describeInvalidHost(host, domain);
    if (problem) {
      issues.push({ path, value: host, ...problem });
    }
    const first = seen.get(host);
    if (first !== undefined) {
      issues.push({
        path,
        value: host,
        message: `the host is already listed at certificateHosts[${first}]`,
        fix: "list each host once",
      });
    } else {
      seen.set(host, index);
    }
  });
  if (hosts.length > 0 && !hosts.includes(domain)) {
    issues.push({
      path: HOSTS_PATH,
      value: hosts,
      message: `an Advanced Certificate Manager pack must contain the zone apex ${domain}`,
      fix: `add ${domain} to the list`,
    });
  }
  if (hosts.length > MAX_CERTIFICATE_HOSTS) {
    issues.push({
      path: HOSTS_PATH,
      value: hosts.length,
      message: `a certificate pack may list at most ${MAX_CERTIFICATE_HOSTS} hosts, but ${hosts.length} are listed`,
      fix: "cover several hostnames with one wildcard such as *.mes.example.com",
    });
  }
  return issues;
}

/** Describes why a host cannot be on a certificate of the zone, or returns undefined when it can. */
function describeInvalidHost(
  host: string,
  domain: string,
): { message: string; fix: string } | undefined {
  if (/^\*\.\*\./.test(host)) {
    return {
      message: `a wildcard covers exactly one DNS label, so no certificate exists for ${host}`,
      fix: `list one wildcard per stack label instead, such as *.mes.${domain}`,
    };
  }
  const name = host.startsWith("*.") ? host.slice(2) : host;
  if (name.includes("*")) {
    return {
      message: `the wildcard in ${host} is not the whole leftmost label`,
      fix: `write a wildcard as *.<name>, such as *.mes.${domain}`,
    };
  }
  if (!name.split(".").every((label) => dnsLabel.safeParse(label).success)) {
    return {
      message: `${host} is not a valid hostname`,
      fix: `write a lowercase hostname such as ignition.mes.${domain}`,
    };
  }
  if (name !== domain && !name.endsWith(`.${domain}`)) {
    return {
      message: `${host} is outside the zone ${domain}, so a certificate pack of this zone cannot contain it`,
      fix: `list only ${domain} and names that end in .${domain}`,
    };
  }
  return undefined;
}

/** Returns the single-label wildcard that covers a hostname, such as `*.mes.example.com` for `ignition.mes.example.com`. */
function wildcardFor(hostname: string): string {
  return `*.${hostname.slice(hostname.indexOf(".") + 1)}`;
}
