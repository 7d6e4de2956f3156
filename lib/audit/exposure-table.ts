/**
 * Builds the exposure table of docs/security.md from synthesized Terraform
 * JSON: for every container, where it is reachable, which secrets it
 * receives, and where each secret comes from. Reading the synthesized JSON,
 * not the configuration, keeps the table true to what Terraform deploys.
 */

import { STACK_IDS } from "../config/schema";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type StackJson = Record<string, any>;

const SECRET_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|PRIVATE_KEY)/i;

export interface ExposureRow {
  readonly stack: string;
  readonly containerName: string;
  /** Host ports with their bind addresses, such as `127.0.0.1:5432`. */
  readonly hostPorts: readonly string[];
  /** Public host names that the stack's tunnel routes to this stack; listed on its cloudflared. */
  readonly publicHostnames: readonly string[];
  /** Environment variables and uploaded files that carry a secret, each with its source. */
  readonly secrets: readonly {
    readonly name: string;
    readonly source: string;
  }[];
}

/** Describes where the value of a Terraform reference comes from. */
export function describeSecretSource(reference: string): string {
  if (reference.includes("random_password.")) {
    return "generated in Terraform (random_password) in this stack";
  }
  if (reference.includes("terraform_remote_state.")) {
    return "generated in core, read from core's state";
  }
  if (reference.includes("cloudflare_zero_trust_tunnel_cloudflared_token")) {
    return "tunnel token read from Cloudflare";
  }
  if (reference.includes("var.")) {
    return "Terraform variable";
  }
  return "Terraform reference";
}

function secretsOf(container: StackJson): { name: string; source: string }[] {
  const secrets: { name: string; source: string }[] = [];
  for (const entry of (container.env ?? []) as string[]) {
    const separator = entry.indexOf("=");
    const name = entry.slice(0, separator);
    const value = entry.slice(separator + 1);
    if (SECRET_NAME.test(name) || value.includes("random_password.")) {
      secrets.push({
        name: `env ${name}`,
        source: describeSecretSource(value),
      });
    }
  }
  for (const upload of (container.upload ?? []) as {
    file: string;
    content?: string;
  }[]) {
    const references =
      (upload.content ?? "").match(
        /\$\{[^}]*(random_password|terraform_remote_state)[^}]*\}/g,
      ) ?? [];
    const first = references[0];
    if (first !== undefined) {
      secrets.push({
        name: `file ${upload.file}`,
        source: describeSecretSource(first),
      });
    }
  }
  return secrets;
}

function tunnelHostnames(stack: StackJson): string[] {
  const configs = Object.values<StackJson>(
    stack.resource?.cloudflare_zero_trust_tunnel_cloudflared_config ?? {},
  );
  return configs.flatMap((config) =>
    ((config.config?.ingress ?? []) as { hostname?: string }[]).flatMap(
      (rule) => (rule.hostname ? [rule.hostname] : []),
    ),
  );
}

/** Rows for every container of every stack, core first, then by stack and container name. */
export function exposureRows(stacks: Record<string, StackJson>): ExposureRow[] {
  const order = (id: string) => (STACK_IDS as readonly string[]).indexOf(id);
  const rows = Object.entries(stacks).flatMap(([stackId, stack]) => {
    const hostnames = tunnelHostnames(stack);
    return Object.values<StackJson>(stack.resource?.docker_container ?? {}).map(
      (container) => ({
        stack: stackId,
        containerName: container.name,
        hostPorts: (
          (container.ports ?? []) as { ip: string; external: number }[]
        ).map((port) => `${port.ip}:${port.external}`),
        publicHostnames: container.name.endsWith("cloudflared")
          ? hostnames
          : [],
        secrets: secretsOf(container),
      }),
    );
  });
  return rows.sort(
    (a, b) =>
      order(a.stack) - order(b.stack) ||
      a.containerName.localeCompare(b.containerName),
  );
}

function summarizePorts(ports: readonly string[]): string {
  if (ports.length === 0) {
    return "none";
  }
  return ports.length > 4
    ? `${ports[0]} to ${ports[ports.length - 1]} (${ports.length} ports)`
    : ports.join(", ");
}

/** Renders the rows as a Markdown table. */
export function renderExposureTable(rows: readonly ExposureRow[]): string {
  const lines = [
    "| Stack | Container | Host ports | Public host names | Secrets and their source |",
    "|---|---|---|---|---|",
  ];
  for (const row of rows) {
    const secrets =
      row.secrets.length === 0
        ? "none"
        : row.secrets
            .map((secret) => `${secret.name}: ${secret.source}`)
            .join("<br>");
    const hostnames =
      row.publicHostnames.length === 0 ? "-" : row.publicHostnames.join("<br>");
    lines.push(
      `| ${row.stack} | ${row.containerName} | ${summarizePorts(row.hostPorts)} | ${hostnames} | ${secrets} |`,
    );
  }
  return `${lines.join("\n")}\n`;
}
