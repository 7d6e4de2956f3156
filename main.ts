import { runSynth } from "./lib/cli/synth";

process.exitCode = runSynth({ projectRoot: __dirname });
