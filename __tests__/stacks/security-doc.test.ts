import { readFileSync } from "node:fs";
import * as path from "node:path";
import {
  GENERATED_BEGIN,
  GENERATED_END,
  renderSecurityTable,
} from "../../lib/audit/security-doc";
import { PROJECT_ROOT } from "../support/synth";

describe("docs/security.md", () => {
  const document = readFileSync(
    path.join(PROJECT_ROOT, "docs", "security.md"),
    "utf8",
  );
  const table = renderSecurityTable(PROJECT_ROOT);

  test("exposure table is up to date", () => {
    const committed = document
      .slice(
        document.indexOf(GENERATED_BEGIN) + GENERATED_BEGIN.length,
        document.indexOf(GENERATED_END),
      )
      .trim();
    // When this fails, run `npm run docs:security` and commit docs/security.md.
    expect(committed).toBe(table.trim());
  });

  test("every cloudflared holds only its token", () => {
    for (const line of table
      .split("\n")
      .filter((row) => row.includes("-cloudflared |"))) {
      expect(line).toContain(
        "env TUNNEL_TOKEN: tunnel token read from Cloudflare",
      );
      expect(line).toContain("| none |");
    }
  });

  test("no host port listens on all interfaces", () => {
    expect(table).not.toContain("0.0.0.0:");
  });
});
