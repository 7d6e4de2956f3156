import { runSynth } from "./lib/cli/synth";

// cdktf records a stack trace for every token and nested block it creates, and with source maps
// on (tsx turns them on) Node maps each frame of each trace: a large share of a full synth (see
// docs/benchmarks.md). They stay off while the app builds and synthesizes. V8 formats an error's
// stack when it is first read, so turning them back on before rethrowing still prints an
// unexpected error's stack with TypeScript line numbers.
process.setSourceMapsEnabled(false);
try {
  process.exitCode = runSynth({ projectRoot: __dirname });
} catch (error) {
  process.setSourceMapsEnabled(true);
  throw error;
}
