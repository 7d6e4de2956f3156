import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import {
  DEFAULT_CONFIG,
  PROJECT_ROOT,
  resourcesOfType,
  StackJson,
  synthConfigText,
  SynthResult,
} from "../support/synth";

const DEFAULT_TEXT = readFileSync(DEFAULT_CONFIG, "utf8");
const SCADA_GATEWAY = "proveit-scada-ignition-gateway";

/** Returns the container resource with that container name, with its logical id. */
function containerEntry(stack: StackJson, name: string): [string, StackJson] {
  const entry = Object.entries(resourcesOfType(stack, "docker_container")).find(
    ([, container]) => container.name === name,
  );
  if (!entry) {
    throw new Error(`no container ${name}`);
  }
  return entry;
}

describe("image upgrade", () => {
  let before: SynthResult;
  let after: SynthResult;

  beforeAll(() => {
    before = synthConfigText(DEFAULT_TEXT);
    const upgraded = DEFAULT_TEXT.replace(
      "containerName: proveit-scada-ignition-gateway",
      "containerName: proveit-scada-ignition-gateway\n        image: inductiveautomation/ignition:8.3.1",
    );
    after = synthConfigText(upgraded);
  });

  afterAll(() => {
    before.cleanup();
    after.cleanup();
  });

  test("volumes are unchanged", () => {
    expect(resourcesOfType(after.stacks.scada, "docker_volume")).toEqual(
      resourcesOfType(before.stacks.scada, "docker_volume"),
    );
  });

  test("container keeps its logical id", () => {
    expect(containerEntry(after.stacks.scada, SCADA_GATEWAY)[0]).toBe(
      containerEntry(before.stacks.scada, SCADA_GATEWAY)[0],
    );
  });

  test("only the image attribute changes", () => {
    const [, oldContainer] = containerEntry(before.stacks.scada, SCADA_GATEWAY);
    const [, newContainer] = containerEntry(after.stacks.scada, SCADA_GATEWAY);
    const changed = Object.keys({ ...oldContainer, ...newContainer }).filter(
      (key) =>
        JSON.stringify(oldContainer[key]) !== JSON.stringify(newContainer[key]),
    );
    expect(changed).toEqual(["image"]);
    expect(newContainer.image).toContain("inductiveautomation-ignition-8-3-1");
  });

  test("gateway data stays on its volume", () => {
    const [, container] = containerEntry(after.stacks.scada, SCADA_GATEWAY);
    const volumes = container.volumes.map((volume: StackJson) => [
      volume.container_path,
      volume.volume_name,
    ]);
    expect(volumes).toEqual([
      [
        "/usr/local/bin/ignition/data",
        expect.stringMatching(/^\$\{docker_volume\.[^}]+\.name\}$/),
      ],
    ]);
  });

  test("other stacks are unchanged", () => {
    for (const id of ["core", "mes", "analytics"]) {
      expect({
        id,
        same:
          JSON.stringify(after.stacks[id]) ===
          JSON.stringify(before.stacks[id]),
      }).toEqual({ id, same: true });
    }
  });
});

describe("repository hygiene", () => {
  test.each([
    "terraform-state/core.tfstate",
    "x.tfstate.backup",
    "cdktf.out/manifest.json",
    ".env",
    "stacks/.env.local",
    "plan.tfplan",
    "core.tfvars",
    "node_modules/x",
  ])("%s is ignored by git", (file) => {
    const output = execFileSync("git", ["check-ignore", "--no-index", file], {
      cwd: PROJECT_ROOT,
      encoding: "utf8",
    });
    expect(output.trim()).toBe(file);
  });
});
