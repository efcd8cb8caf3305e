#!/usr/bin/env bash
# What a user pays to depend on the SDK: a downstream crate with
# `brainstem = { path = ... }` (default features), built from clean in debug and
# release, then rebuilt after touching the user's own code; plus what the
# dependency tree holds and how many lines build.rs generates.
#
#   tools/build-cost.sh            # default features
#   FEATURES=raw tools/build-cost.sh
#
# Uses its own target directory, so nothing is shared with the workspace's.
# The figures depend on the machine and on what else runs on it: quote them
# with the machine's core count.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
features="${FEATURES:-}"
dep="brainstem = { path = \"$repo\" }"
if [ -n "$features" ]; then
  dep="brainstem = { path = \"$repo\", features = [\"$features\"] }"
fi

mkdir -p "$work/user/src"
cat > "$work/user/Cargo.toml" <<EOF
[package]
name = "user"
version = "0.1.0"
edition = "2024"

[dependencies]
$dep
tokio = { version = "1", features = ["macros", "rt-multi-thread"] }

[workspace]
EOF
cat > "$work/user/src/main.rs" <<'EOF'
#[tokio::main]
async fn main() -> Result<(), brainstem::Error> {
    let client = brainstem::Client::from_env()?;
    let sessions = client.sessions().list().limit(5).page().await?;
    println!("{}", sessions.records.len());
    Ok(())
}
EOF

export CARGO_TARGET_DIR="$work/target"
cd "$work/user"
cargo fetch --quiet

timed() {
  local start end ms
  start=$(date +%s%N)
  "$@" >/dev/null 2>&1
  end=$(date +%s%N)
  ms=$(( (end - start) / 1000000 ))
  printf '%d.%01d' $((ms / 1000)) $(( (ms % 1000) / 100 ))
}

echo "machine: $(nproc) cores; features: ${features:-default}"
echo "clean debug build:        $(timed cargo build) s"
touch src/main.rs
echo "incremental (user edit):  $(timed cargo build) s"
echo "clean release build:      $(timed cargo build --release) s"
touch src/main.rs
echo "incremental release:      $(timed cargo build --release) s"

out_dir=$(find "$CARGO_TARGET_DIR/debug/build" -maxdepth 1 -name 'brainstem-*' -type d \
  -exec test -f {}/out/types.rs \; -print | head -n1)
if [ -n "$out_dir" ]; then
  echo "generated lines in OUT_DIR:"
  wc -l "$out_dir"/out/*.rs | sed 's/^/  /'
fi

echo "in the dependency tree (normal edges):"
for c in axum clap indicatif progenitor-client hyper reqwest; do
  if cargo tree -e normal --prefix none 2>/dev/null | grep -q "^$c v"; then
    echo "  $c: yes"
  else
    echo "  $c: no"
  fi
done
