/**
 * Rewrites the generated exposure table in docs/security.md from a synth of
 * configs/full.yaml. The table sits between two marker comments; the prose
 * around it is edited by hand. A test fails when the committed table is out
 * of date.
 */
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import {
  renderSecurityTable,
  replaceGeneratedSection,
} from "../lib/audit/security-doc";

const target = path.join(__dirname, "..", "docs", "security.md");
writeFileSync(
  target,
  replaceGeneratedSection(
    readFileSync(target, "utf8"),
    renderSecurityTable(path.join(__dirname, "..")),
  ),
);
console.log(`updated ${path.relative(process.cwd(), target)}`);
