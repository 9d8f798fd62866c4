#!/usr/bin/env bash
# Regenerates reports/gallery/: for four catalogue scenarios, seed 1's HTML report and timeline
# (what `losslab replay --out` writes), and over the whole catalogue (3 seeds a scenario), the
# summary charts of `losslab chart`. Everything is deterministic: the same checkout gives the
# same files. Run from anywhere:
#
#   reports/gallery/make.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo build --release --quiet
losslab=target/release/losslab
gallery=reports/gallery
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# `replay` exits 1 when an expectation is not met: a result worth charting, not an error here.
replay() {
  "$losslab" replay "$@" >/dev/null || [ $? -eq 1 ]
}

scenarios=(acks1-leader-crash last-replica-standing unclean-election consumer-auto-commit-async)
files=()
for s in "${scenarios[@]}"; do
  files+=("scenarios/$s.json")
done
replay "${files[@]}" --out "$work/runs"
for s in "${scenarios[@]}"; do
  rm -rf "${gallery:?}/$s"
  mkdir -p "$gallery/$s"
  cp "$work/runs/$s/seed-1/report.html" "$work/runs/$s/seed-1/timeline.svg" "$gallery/$s/"
done

replay scenarios/*.json --seeds 3 --out "$work/catalogue"
rm -rf "${gallery:?}/charts"
"$losslab" chart "$work/catalogue" --out "$gallery/charts"
