/**
 * The smallest cdktf app with the project's toolchain: one stack with the
 * Docker provider and one resource. scripts/bench-synth.ts runs it as the
 * baseline that a full synth is compared against.
 */
import { Network } from "@cdktf/provider-docker/lib/network";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { App, TerraformStack } from "cdktf";

const app = new App({ outdir: process.env.CDKTF_OUTDIR ?? "cdktf.out" });
const stack = new TerraformStack(app, "minimal");
new DockerProvider(stack, "docker", {});
new Network(stack, "network", { name: "minimal-network" });
app.synth();
