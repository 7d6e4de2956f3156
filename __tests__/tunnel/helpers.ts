import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parseDocument, Document } from "yaml";
import type { StackSpec } from "../../lib/config/model";
import { PROJECT_ROOT, resourcesOfType, StackJson } from "../support/synth";

/** Every configuration shipped under configs/, as absolute paths. */
export const SHIPPED_CONFIGS: readonly string[] = readdirSync(
  path.join(PROJECT_ROOT, "configs"),
)
  .filter((name) => name.endsWith(".yaml"))
  .sort()
  .map((name) => path.join(PROJECT_ROOT, "configs", name));

/** Returns a configuration file's text after an edit of its YAML document. */
export function editConfig(
  file: string,
  edit: (document: Document) => void,
): string {
  const document = parseDocument(readFileSync(file, "utf8"));
  edit(document);
  return document.toString();
}

/** Lists the stack ids that a configuration file defines, whether enabled or not. */
export function definedStacks(document: Document): string[] {
  const stacks = document.get("stacks") as
    { items?: { key: { value: string } }[] } | undefined;
  return (stacks?.items ?? []).map((item) => String(item.key.value));
}

/** Lists the public hostnames of a stack, in route order. */
export function publicHostnames(spec: StackSpec): string[] {
  return spec.routes.flatMap((route) =>
    route.hostname ? [route.hostname] : [],
  );
}

/** Returns the one resource of a type with its logical id, and fails when there is not exactly one. */
export function single(
  stack: StackJson,
  type: string,
): { id: string; body: StackJson } {
  const entries = Object.entries(resourcesOfType(stack, type));
  if (entries.length !== 1) {
    throw new Error(`expected one ${type}, found ${entries.length}`);
  }
  return { id: entries[0][0], body: entries[0][1] };
}

/** Returns the one data source of a type with its logical id, and fails when there is not exactly one. */
export function singleData(
  stack: StackJson,
  type: string,
): { id: string; body: StackJson } {
  const entries = Object.entries<StackJson>(stack.data?.[type] ?? {});
  if (entries.length !== 1) {
    throw new Error(`expected one data.${type}, found ${entries.length}`);
  }
  return { id: entries[0][0], body: entries[0][1] };
}

/** Lists every Cloudflare resource type, data source type, provider, required provider and variable of a stack. */
export function cloudflareElements(stack: StackJson): string[] {
  const found: string[] = [];
  for (const type of Object.keys(stack.resource ?? {})) {
    if (type.startsWith("cloudflare_")) {
      found.push(`resource.${type}`);
    }
  }
  for (const type of Object.keys(stack.data ?? {})) {
    if (type.startsWith("cloudflare_")) {
      found.push(`data.${type}`);
    }
  }
  if (stack.provider?.cloudflare) {
    found.push("provider.cloudflare");
  }
  if (stack.terraform?.required_providers?.cloudflare) {
    found.push("terraform.required_providers.cloudflare");
  }
  for (const name of Object.keys(stack.variable ?? {})) {
    if (name.startsWith("cloudflare")) {
      found.push(`variable.${name}`);
    }
  }
  return found;
}
