#!/usr/bin/env bash
# What a user pays to depend on the SDK: a downstream crate with
# `brainstem = { path = ... }` (default features), built from clean in debug and
# release, then rebuilt after touching the user's own code; plus what the
# dependency tree holds and how many lines build.rs generates.
#
#   tools/build-cost.sh            # default features
#   FEATURES=raw tools/build-cost.sh
#   SDK_DEBUG=line-tables-only tools/build-cost.sh
#                                  # the user's profile sets the SDK's
#                                  # debuginfo (the README's tip)
#   IDNA=unicode-rs tools/build-cost.sh
#                                  # the user's Cargo.lock picks idna's
#                                  # unicode-rs back end over ICU4X (the
#                                  # README's other tip)
#   AGAINST=9749047 tools/build-cost.sh
#                                  # instead: clean builds of the same user
#                                  # crate against an older commit's SDK
#                                  # (without its default features, with
#                                  # AGAINST_FEATURES: a comma-separated
#                                  # list like FEATURES, default `client`)
#                                  # and this
#                                  # tree's, interleaved for ROUNDS rounds
#                                  # (default 3) of PROFILES (default
#                                  # "debug release"); prints each build, the
#                                  # medians and this tree's ratio to the
#                                  # older one. 9749047 is the last commit
#                                  # before the workspace split, in the
#                                  # configuration issue 10 measured.
#
# Uses its own target directory, so nothing is shared with the workspace's.
# The figures depend on the machine and on what else runs on it: quote them
# with the machine's core count.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
features="${FEATURES:-}"
# toml_list "a,b": the TOML array items "a", "b" (FEATURES and
# AGAINST_FEATURES take comma-separated lists)
toml_list() {
  local out="" item
  local IFS=,
  for item in $1; do
    out="$out${out:+, }\"$item\""
  done
  printf '%s' "$out"
}
dep="brainstem = { path = \"$repo\" }"
if [ -n "$features" ]; then
  dep="brainstem = { path = \"$repo\", features = [$(toml_list "$features")] }"
fi

sdk_debug=""
if [ -n "${SDK_DEBUG:-}" ]; then
  sdk_debug="debug = \"$SDK_DEBUG\""
fi

# user_crate DIR DEPENDENCY: the downstream crate, with its own lockfile
user_crate() {
  mkdir -p "$1/src"
  cat > "$1/Cargo.toml" <<EOF
[package]
name = "user"
version = "0.1.0"
edition = "2024"

[dependencies]
$2
tokio = { version = "1", features = ["macros", "rt-multi-thread"] }

# Built as a crates.io dependency is: cargo keeps incremental state only for
# path dependencies, and that bookkeeping made the SDK crate's clean debug
# build about 17 % slower (23.7 s against 19.7 s on 2 cores).
[profile.dev.package.brainstem]
incremental = false
$sdk_debug

[workspace]
EOF
  cat > "$1/src/main.rs" <<'EOF'
#[tokio::main]
async fn main() -> Result<(), brainstem::Error> {
    let client = brainstem::Client::from_env()?;
    let sessions = client.sessions().list().limit(5).page().await?;
    println!("{}", sessions.records.len());
    Ok(())
}
EOF
}
user_crate "$work/user" "$dep"

# resolve: the current directory's user crate gets its own fresh lockfile
resolve() {
  cargo fetch --quiet
  case "${IDNA:-}" in
    "") ;;
    unicode-rs) cargo update --quiet -p idna_adapter --precise 1.1.0 ;;
    *) echo "IDNA must be unset or unicode-rs" >&2; exit 2 ;;
  esac
}

export CARGO_TARGET_DIR="$work/target"
cd "$work/user"
resolve

timed() {
  local start end ms
  start=$(date +%s%N)
  if ! "$@" >/dev/null 2>"$work/last-error"; then
    cat "$work/last-error" >&2
    echo "failed: $*" >&2
    exit 1
  fi
  end=$(date +%s%N)
  ms=$(( (end - start) / 1000000 ))
  printf '%d.%01d' $((ms / 1000)) $(( (ms % 1000) / 100 ))
}

# report LABEL COMMAND...: time the command; stop the script if it fails
report() {
  local label="$1" t
  shift
  t=$(timed "$@")
  printf '%-26s%s s\n' "$label" "$t"
}

# sdk_share: from the last build's --timings report, how long the SDK crate
# itself took, when it started, and for how long one crate was compiling
# alone (a core idle: what a build graph with more parallel work could win)
sdk_share() {
  local html
  html=$(ls -t "$CARGO_TARGET_DIR"/cargo-timings/cargo-timing-*.html 2>/dev/null | head -n1)
  [ -n "$html" ] || return 0
  python3 - "$html" <<'PY'
import json, re, sys
text = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r"const UNIT_DATA = (\[.*?\]);\n", text, re.S)
if not m:
    sys.exit(0)
units = json.loads(m.group(1))
end = max(u["start"] + u["duration"] for u in units)
sdk = [u for u in units if u["name"] == "brainstem" and u["target"].strip() in ("", "lib")]
# tenths of a second in which exactly one unit was compiling
steps = int(end * 10) + 1
busy = [0] * steps
for u in units:
    for t in range(int(u["start"] * 10), min(steps, int((u["start"] + u["duration"]) * 10))):
        busy[t] += 1
alone = sum(1 for b in busy if b == 1) / 10
if sdk:
    u = sdk[0]
    print(f"  the SDK crate itself:   {u['duration']:.1f} s, from {u['start']:.1f} s")
print(f"  one crate alone for:    {alone:.1f} s of {end:.1f} s")
PY
}

# The comparison: the same user crate against an older commit's SDK ("base")
# and this tree's ("tip"), each with its own lockfile and target directory,
# clean debug then clean release, alternating, so that both see the machine
# in the same state. The machine's speed drifts by up to 2x from hour to
# hour; the ratio of builds made side by side does not.
if [ -n "${AGAINST:-}" ]; then
  base_features="${AGAINST_FEATURES:-client}"
  rounds="${ROUNDS:-3}"
  profiles="${PROFILES:-debug release}"
  # say what is wrong before the base is unpacked, fetched and built
  case "$rounds" in '' | *[!0-9]* | 0) echo "ROUNDS must be a positive whole number" >&2; exit 2 ;; esac
  for profile in $profiles; do
    case "$profile" in debug | release) ;; *) echo "PROFILES takes debug and/or release" >&2; exit 2 ;; esac
  done
  mkdir -p "$work/base-src"
  git -C "$repo" archive "$AGAINST" | tar -x -C "$work/base-src"
  user_crate "$work/base" \
    "brainstem = { path = \"$work/base-src\", default-features = false, features = [$(toml_list "$base_features")] }"
  (cd "$work/base" && resolve)
  echo "machine: $(nproc) cores; this tree (features: ${features:-default}) against $AGAINST (features: $base_features only)"
  echo "$rounds rounds of clean builds, interleaved"
  : > "$work/results"
  for round in $(seq "$rounds"); do
    for profile in $profiles; do
      flag=""
      [ "$profile" = release ] && flag="--release"
      for side in base tip; do
        dir="$work/user"
        [ "$side" = base ] && dir="$work/base"
        export CARGO_TARGET_DIR="$work/target-$side"
        rm -rf "$CARGO_TARGET_DIR"
        t=$(cd "$dir" && timed cargo build --timings $flag)
        printf 'round %s, %-7s %-4s %6s s\n' "$round" "$profile:" "$side" "$t"
        sdk_share | sed -n 1p
        echo "$side $profile $t" >> "$work/results"
      done
    done
  done
  python3 - "$work/results" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    side, profile, t = line.split()
    runs.setdefault((side, profile), []).append(float(t))
for profile in ("debug", "release"):
    if ("base", profile) not in runs:
        continue
    base, tip = runs[("base", profile)], runs[("tip", profile)]
    # each round's two builds ran back to back: their ratio is the paired figure
    ratios = [t / b for b, t in zip(base, tip)]
    print(
        f"clean {profile}: median base {statistics.median(base):.1f} s, tip "
        f"{statistics.median(tip):.1f} s; tip/base per round "
        f"{' / '.join(f'{r:.3f}' for r in ratios)}, median {statistics.median(ratios):.3f}"
    )
PY
  exit 0
fi

echo "machine: $(nproc) cores; features: ${features:-default}${SDK_DEBUG:+; SDK debuginfo: $SDK_DEBUG}${IDNA:+; idna back end: $IDNA}"
report "clean debug build:" cargo build --timings
sdk_share
touch src/main.rs
report "incremental (user edit):" cargo build
report "clean release build:" cargo build --release --timings
sdk_share
touch src/main.rs
report "incremental release:" cargo build --release

out_dir=$(find "$CARGO_TARGET_DIR/debug/build" -maxdepth 1 -name 'brainstem-*' -type d \
  -exec test -f {}/out/types.rs \; -print | head -n1)
if [ -n "$out_dir" ]; then
  echo "generated lines in OUT_DIR:"
  wc -l "$out_dir"/out/*.rs | sed 's/^/  /'
fi

# The floor: the same third-party crates at the same versions and with the
# same features, built for a crate that does not use the SDK. What the SDK
# itself adds is the difference; a target below the floor cannot be met by
# changing the SDK's own code.
mkdir -p "$work/floor/src"
cargo metadata --format-version 1 --quiet | python3 "$repo/tools/floor-manifest.py" \
  > "$work/floor/Cargo.toml"
cp Cargo.lock "$work/floor/Cargo.lock"
cat > "$work/floor/src/main.rs" <<'EOF'
#[tokio::main]
async fn main() {
    let request = reqwest::Client::new().get("http://localhost/").build();
    println!("{:?}", request.map(|r| r.url().clone()));
}
EOF
(
  export CARGO_TARGET_DIR="$work/floor-target"
  cd "$work/floor"
  echo "floor: the SDK's dependencies alone (same versions and features, no SDK code)"
  report "  clean debug build:" cargo build
  report "  clean release build:" cargo build --release
)

echo "in the dependency tree (normal edges):"
for c in axum clap indicatif progenitor-client hyper reqwest icu_normalizer; do
  if cargo tree -e normal --prefix none 2>/dev/null | grep -q "^$c v"; then
    echo "  $c: yes"
  else
    echo "  $c: no"
  fi
done
