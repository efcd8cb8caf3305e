#!/usr/bin/env bash
# Issue 12's benchmarks in one run, with the ratios they are judged by:
#
#   benches/client.rs  decode (typed / Value / IgnoredAny), stream() and all()
#                      against a raw reqwest floor at 10k and 100k, and the
#                      WAN run (50 ms, 20 Mbit/s): SDK default vs one page at
#                      a time vs the official Python client's load_all
#   benches/memory.rs  peak RSS of stream() and all() at 100k
#
#   tools/bench.sh             # everything (about 10 minutes on 2 cores)
#   tools/bench.sh --quick     # criterion's --quick: fewer samples, rougher
#
# Makes .venv with the official Python client as .ci/run does (needs the
# package registry once). Quote the printed medians with the core count:
# they depend on the machine and on what else runs on it.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/pip install --quiet --disable-pip-version-check "brainstem_python_api_tools==2.0.0"
export BRAINSTEM_PYTHON="$PWD/.venv/bin/python"

extra=()
if [ "${1:-}" = "--quick" ]; then
  extra=(--quick)
fi
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
echo "machine: $(nproc) cores; $(date -u +%FT%TZ); $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
cargo bench --bench client -- "${extra[@]}" 2>&1 | tee "$log" | grep -E '^(decode|instant|wan)_?[^ ]*/|time:' || true
sed -n '/^== issue 12 figures/,$p' "$log"
cargo bench --bench memory 2>/dev/null | grep -v '^$'
