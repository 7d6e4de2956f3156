/**
 * Runs the gateway entrypoint script with bash against a temporary folder laid
 * out like the image. Seeded files must land in the external collection with
 * the password filled in, and the image's entrypoint must get the container's
 * arguments.
 */
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import {
  PASSWORD_PLACEHOLDER,
  renderDatabaseConnection,
  renderSeedEntrypoint,
} from "../../lib/rendering/ignition-resources";

describe("gateway entrypoint", () => {
  let root: string;
  let run: ReturnType<typeof spawnSync>;
  const password = "Abc123&def/ghi";

  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), "proveit-entrypoint-"));
    const install = path.join(root, "ignition");
    const seed = path.join(root, "seed");
    mkdirSync(path.join(install, "data"), { recursive: true });
    for (const file of renderDatabaseConnection({
      name: "core_ignition",
      connectUrl: "jdbc:postgresql://pgbouncer:5432/core_ignition",
      username: "core_ignition",
    })) {
      mkdirSync(path.dirname(path.join(seed, file.path)), { recursive: true });
      writeFileSync(path.join(seed, file.path), file.content);
    }
    // An operator's override in the core collection, which seeding must leave alone.
    const override = path.join(
      install,
      "data",
      "config",
      "resources",
      "core",
      "ignition",
      "database-connection",
      "core_ignition",
    );
    mkdirSync(override, { recursive: true });
    writeFileSync(path.join(override, "config.json"), "operator");
    const imageEntrypoint = path.join(root, "docker-entrypoint.sh");
    writeFileSync(
      imageEntrypoint,
      '#!/usr/bin/env bash\nprintf "%s\\n" "$@" > "$(dirname "$0")/arguments"\n',
    );
    chmodSync(imageEntrypoint, 0o755);
    const script = path.join(root, "gateway-entrypoint.sh");
    writeFileSync(script, renderSeedEntrypoint());
    chmodSync(script, 0o755);
    run = spawnSync(
      script,
      ["-n", "gateway", "--", "gateway.useProxyForwardedHeader=true"],
      {
        env: {
          PATH: process.env.PATH,
          IGNITION_INSTALL_LOCATION: install,
          PROVEIT_SEED_DIR: seed,
          IGNITION_DOCKER_ENTRYPOINT: imageEntrypoint,
          PROVEIT_DB_PASSWORD: password,
        },
        encoding: "utf8",
        timeout: 10_000,
      },
    );
  });

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  const seeded = (file: string): string =>
    readFileSync(
      path.join(
        root,
        "ignition",
        "data",
        "config",
        "resources",
        "external",
        "ignition",
        "database-connection",
        "core_ignition",
        file,
      ),
      "utf8",
    );

  test("exits successfully", () => {
    expect(run.status).toBe(0);
  });

  test("fills in the password", () => {
    expect(JSON.parse(seeded("config.json")).connectURL).toBe(
      `jdbc:postgresql://pgbouncer:5432/core_ignition?password=${password}&ApplicationName=ignition`,
    );
  });

  test("leaves no placeholder", () => {
    expect(seeded("config.json")).not.toContain(PASSWORD_PLACEHOLDER);
  });

  test("copies the resource manifest", () => {
    expect(JSON.parse(seeded("resource.json")).files).toEqual(["config.json"]);
  });

  test("leaves the core collection alone", () => {
    const override = path.join(
      root,
      "ignition",
      "data",
      "config",
      "resources",
      "core",
      "ignition",
      "database-connection",
      "core_ignition",
      "config.json",
    );
    expect(readFileSync(override, "utf8")).toBe("operator");
  });

  test("passes arguments to the image", () => {
    expect(readFileSync(path.join(root, "arguments"), "utf8")).toBe(
      "-n\ngateway\n--\ngateway.useProxyForwardedHeader=true\n",
    );
  });
});
