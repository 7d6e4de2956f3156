import type { Deployment, PublishedPort, StackSpec } from "../config/model";
import { prometheusOnRoutingNetwork } from "./prometheus";

/** One container of the deployment with everything the topology shows about it. */
export interface TopologyRow {
  readonly stack: string;
  readonly containerName: string;
  readonly networks: readonly string[];
  readonly hostPorts: string;
  readonly hostnames: readonly string[];
}

function formatPorts(ports: readonly PublishedPort[]): string {
  if (ports.length === 0) {
    return "-";
  }
  const parts: string[] = [];
  let start = 0;
  for (let index = 1; index <= ports.length; index++) {
    const previous = ports[index - 1];
    const current = ports[index];
    const continues =
      current &&
      current.external === previous.external + 1 &&
      current.ip === previous.ip;
    if (!continues) {
      const first = ports[start];
      const range =
        first === previous
          ? `${first.external}`
          : `${first.external}-${previous.external}`;
      parts.push(`${first.ip}:${range}`);
      start = index;
    }
  }
  return parts.join(", ");
}

function stackRows(deployment: Deployment, stack: StackSpec): TopologyRow[] {
  const operations = deployment.operationsNetwork.name;
  const routing = deployment.routingNetwork.name;
  const own = stack.network.name;
  const onOperations = (networks: string[]) =>
    own === operations ? networks : [...networks, operations];
  const hostnamesOf = (key: string) =>
    stack.routes
      .filter((route) => route.key === key && route.hostname)
      .map((route) => route.hostname!);
  const rows: TopologyRow[] = [];
  for (const database of stack.databases) {
    rows.push({
      stack: stack.id,
      containerName: database.containerName,
      networks: [own],
      hostPorts: formatPorts(database.ports),
      hostnames: [],
    });
    if (database.pgbouncer) {
      rows.push({
        stack: stack.id,
        containerName: database.pgbouncer.containerName,
        networks: [own],
        hostPorts: formatPorts(database.pgbouncer.ports),
        hostnames: [],
      });
    }
  }
  for (const gateway of stack.gateways) {
    const hostnames = [
      ...new Set([
        ...hostnamesOf(gateway.poolKey),
        ...hostnamesOf(gateway.key),
      ]),
    ];
    rows.push({
      stack: stack.id,
      containerName: gateway.containerName,
      networks: onOperations([own]),
      hostPorts: formatPorts(gateway.ports),
      hostnames,
    });
  }
  for (const service of stack.services) {
    const networks = service.operationsNetwork ? onOperations([own]) : [own];
    if (
      service.kind === "prometheus" &&
      prometheusOnRoutingNetwork(deployment)
    ) {
      networks.push(routing);
    }
    rows.push({
      stack: stack.id,
      containerName: service.containerName,
      networks,
      hostPorts: formatPorts(service.ports),
      hostnames: hostnamesOf(service.key),
    });
  }
  rows.push({
    stack: stack.id,
    containerName: stack.nginx.containerName,
    networks: [own, routing],
    hostPorts: formatPorts(stack.nginx.ports),
    hostnames: [],
  });
  for (const exporter of stack.exporters) {
    const networks = exporter.kind === "pgbouncer" ? [own, routing] : [routing];
    rows.push({
      stack: stack.id,
      containerName: exporter.containerName,
      networks,
      hostPorts: "-",
      hostnames: [],
    });
  }
  if (stack.tunnel) {
    rows.push({
      stack: stack.id,
      containerName: stack.tunnel.containerName,
      networks: [routing],
      hostPorts: "-",
      hostnames: stack.routes.flatMap((route) =>
        route.hostname ? [route.hostname] : [],
      ),
    });
  }
  return rows;
}

/** Returns every container of every enabled stack, in deploy order. */
export function topologyRows(deployment: Deployment): TopologyRow[] {
  return deployment.stacks.flatMap((stack) => stackRows(deployment, stack));
}

function nodeId(name: string): string {
  return name.replace(/[^A-Za-z0-9]/g, "_");
}

/** Renders the topology as a Mermaid flowchart: a box per stack, a node per network, an edge per membership. */
export function renderMermaid(deployment: Deployment): string {
  const rows = topologyRows(deployment);
  const lines = ["flowchart LR"];
  const networks = [...new Set(rows.flatMap((row) => row.networks))];
  for (const network of networks) {
    lines.push(`  ${nodeId(`net_${network}`)}{{"${network}"}}`);
  }
  for (const stack of deployment.stacks) {
    lines.push(
      `  subgraph ${nodeId(`stack_${stack.id}`)}["${stack.id} stack"]`,
    );
    for (const row of rows.filter(
      (candidate) => candidate.stack === stack.id,
    )) {
      const ports = row.hostPorts === "-" ? "" : `<br/>${row.hostPorts}`;
      const hosts =
        row.hostnames.length > 0 && !row.containerName.endsWith("cloudflared")
          ? `<br/>${row.hostnames.join("<br/>")}`
          : "";
      lines.push(
        `    ${nodeId(row.containerName)}["${row.containerName}${ports}${hosts}"]`,
      );
    }
    lines.push("  end");
  }
  for (const row of rows) {
    for (const network of row.networks) {
      lines.push(
        `  ${nodeId(row.containerName)} --- ${nodeId(`net_${network}`)}`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

/** Renders the topology as a plain text table for a terminal. */
export function renderTable(deployment: Deployment): string {
  const header = [
    "STACK",
    "CONTAINER",
    "NETWORKS",
    "HOST PORTS",
    "PUBLIC HOSTNAMES",
  ];
  const body = topologyRows(deployment).map((row) => [
    row.stack,
    row.containerName,
    row.networks.join(", "),
    row.hostPorts,
    row.containerName.endsWith("cloudflared")
      ? `(${row.hostnames.length} routed)`
      : row.hostnames.join(", ") || "-",
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...body.map((cells) => cells[column].length)),
  );
  const format = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]))
      .join("  ")
      .trimEnd();
  return [format(header), ...body.map(format)].join("\n") + "\n";
}
