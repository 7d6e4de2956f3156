/**
 * Synthesizes every configuration under configs/ into a temporary folder and
 * scans each written file for secret material: credential literals, private
 * keys, token-shaped strings, and secrets in variables or outputs that are
 * not marked sensitive. With a folder argument, scans that folder instead
 * (for example an existing cdktf.out). Exits 1 when anything is found.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import {
  formatFindings,
  scanDirectory,
  SecretFinding,
} from "../lib/audit/secret-scan";
import { loadDeployment } from "../lib/config/load";
import { synthesizeDeployment } from "../lib/stacks/synthesize";

const projectRoot = path.join(__dirname, "..");

function scanShippedConfigurations(): {
  findings: SecretFinding[];
  files: number;
} {
  const configs = readdirSync(path.join(projectRoot, "configs")).filter(
    (file) => file.endsWith(".yaml"),
  );
  const findings: SecretFinding[] = [];
  for (const config of configs) {
    const root = mkdtempSync(path.join(tmpdir(), "proveit-audit-"));
    try {
      const { outdir } = synthesizeDeployment(
        loadDeployment(path.join(projectRoot, "configs", config), {}),
        root,
      );
      const found = scanDirectory(outdir);
      console.log(`configs/${config}: ${found.length} finding(s)`);
      findings.push(...found);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
  return { findings, files: configs.length };
}

const target = process.argv[2];
const findings = target
  ? scanDirectory(path.resolve(target))
  : scanShippedConfigurations().findings;
if (findings.length > 0) {
  console.error(formatFindings(findings));
  process.exitCode = 1;
} else {
  console.log("no secret material found");
}
