#!/usr/bin/env bash
# Measures the whole test run, `npm test` (tsc --noEmit, then jest): its wall
# time and its peak resident memory (RSS). RSS is sampled every 0.2 s and
# summed twice: over every process of the run, and over the jest processes
# alone (the jest parent and its workers). A sum counts shared pages once per
# process, so the figures are an upper bound. CPU time (user + system of all
# processes, from GNU time) varies less than wall time when other work shares
# the machine.
#
# Usage: npm run bench:tests [-- <runs>]    (default: 1 run)
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-1}"
if [ ! -x /usr/bin/time ]; then
  echo "/usr/bin/time not found; install GNU time (Debian package \"time\")" >&2
  exit 1
fi
log_dir="$(mktemp -d)"
trap 'rm -rf "$log_dir"' EXIT

# Prints "<tree KiB> <jest KiB>" for the process tree below the given pid.
sample_rss() {
  ps -e -o pid=,ppid=,rss=,args= | awk -v root="$1" '
    { pid = $1; parent[pid] = $2; rss[pid] = $3; $1 = $2 = $3 = ""; args[pid] = $0 }
    END {
      for (pid in parent) {
        p = pid
        while (p != "" && p != root && p in parent && p != 1) p = parent[p]
        if (p == root || pid == root) {
          tree += rss[pid]
          if (args[pid] ~ /jest/) jest += rss[pid]
        }
      }
      printf "%d %d\n", tree, jest
    }'
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), node $(node --version)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| run | wall (s) | CPU (s) | peak RSS, all processes (MiB) | peak RSS, jest (MiB) | result |"
echo "| --- | --- | --- | --- | --- | --- |"
for run in $(seq 1 "$runs"); do
  log="$log_dir/test-$run.log"
  start=$(date +%s.%N)
  /usr/bin/time -f "%U %S" -o "$log_dir/time-$run.txt" npm test >"$log" 2>&1 &
  pid=$!
  peak_tree=0
  peak_jest=0
  while kill -0 "$pid" 2>/dev/null; do
    read -r tree jest < <(sample_rss "$pid")
    ((tree > peak_tree)) && peak_tree=$tree
    ((jest > peak_jest)) && peak_jest=$jest
    sleep 0.2
  done
  status=0
  wait "$pid" || status=$?
  end=$(date +%s.%N)
  # GNU time writes "Command exited with non-zero status N" above the figures when the run fails.
  cpu=$(tail -1 "$log_dir/time-$run.txt" | awk '{ print $1 + $2 }')
  summary=$(grep -E '^Tests:' "$log" | tail -1 | sed 's/Tests: *//')
  [ "$status" -eq 0 ] || summary="FAILED (exit $status): ${summary:-see the log}"
  awk -v run="$run" -v start="$start" -v end="$end" -v cpu="$cpu" -v tree="$peak_tree" -v jest="$peak_jest" -v summary="$summary" \
    'BEGIN { printf "| %d | %.1f | %.1f | %.0f | %.0f | %s |\n", run, end - start, cpu, tree / 1024, jest / 1024, summary }'
  if [ "$status" -ne 0 ]; then
    tail -40 "$log" >&2
    exit "$status"
  fi
done
