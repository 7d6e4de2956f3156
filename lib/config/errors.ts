/** A path into the configuration document, such as `["stacks", "mes", "nginx", "hostPort"]`. */
export type FieldPath = readonly (string | number)[];

/** One problem found in a configuration file. */
export interface ConfigIssue {
  readonly path: FieldPath;
  /** Description of the problem, without the field path or the value. */
  readonly message: string;
  /** Change that fixes the problem. */
  readonly fix: string;
  /** The offending value; omitted when the field is missing. */
  readonly value?: unknown;
  /** `line:column` in the file, when known. */
  readonly position?: string;
}

/** Renders a field path as `stacks.mes.gateways.ignition-frontend.ports[0]`. */
export function formatPath(path: FieldPath): string {
  if (path.length === 0) {
    return "(top level)";
  }
  return path
    .map((segment, index) => {
      if (typeof segment === "number") {
        return `[${segment}]`;
      }
      return index === 0 ? segment : `.${segment}`;
    })
    .join("");
}

function formatValue(value: unknown): string {
  if (value === undefined) {
    return "(missing)";
  }
  const text = JSON.stringify(value);
  if (text === undefined) {
    return String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Raised when a configuration file cannot be used. The message lists every
 * issue at once, each with file, field path, value and fix, and is meant to
 * be printed as it is, without a stack trace.
 */
export class ConfigError extends Error {
  public readonly file: string;
  public readonly issues: readonly ConfigIssue[];

  constructor(file: string, issues: readonly ConfigIssue[]) {
    const count =
      issues.length === 1 ? "1 problem" : `${issues.length} problems`;
    const lines = issues.map((issue) => {
      const where = issue.position ? `${file}:${issue.position}` : file;
      const value = "value" in issue ? ` = ${formatValue(issue.value)}` : "";
      return `  ${where} ${formatPath(issue.path)}${value}\n    ${issue.message}\n    Fix: ${issue.fix}`;
    });
    super(`Invalid configuration ${file} (${count}):\n${lines.join("\n")}`);
    this.name = "ConfigError";
    this.file = file;
    this.issues = issues;
  }
}
