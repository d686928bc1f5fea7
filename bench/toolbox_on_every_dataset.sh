#!/usr/bin/env bash
# Runs every analyst command on every dataset of a store and prints one line per run
# (dataset, command, wall time, ok or the error). Build a store with every shared
# dataset first, e.g.:
#   S=target/release/streetlight; D=../shared/data
#   $S ingest --db /tmp/all.db --profile philadelphia-ppd $D/philadelphia-ppd/raw/*.zst
#   $S ingest --db /tmp/all.db --profile stlouis-slmpd $D/stlouis-slmpd/raw/*/*.csv*
#   $S ingest --db /tmp/all.db --profile vancouver-vpd $D/vancouver-vpd/raw/*.csv.gz
#   $S ingest --db /tmp/all.db --profile portland-nij-cfs $D/portland-nij-cfs/raw/*.zip \
#       $D/portland-nij-cfs/chirico-subsets/crimes_bur.csv $D/portland-nij-cfs/chirico-subsets/crimes_veh.csv
#   $S ingest --db /tmp/all.db --profile chicago-code data/chicago-code/raw/chicago_be_month1.csv
# then: DB=/tmp/all.db bash bench/toolbox_on_every_dataset.sh
set -u
S=${S:-target/release/streetlight}
DB=${DB:-/tmp/all.db}
fails=0
run() {
  local d=$1; shift
  local t0 t1 out st
  t0=$(date +%s.%N)
  if out=$("$S" "$@" --db "$DB" --dataset "$d" 2>&1 >/dev/null); then st=ok; else st="FAIL: $(echo "$out" | tail -1)"; fails=$((fails + 1)); fi
  t1=$(date +%s.%N)
  printf "%-28s %-48s %7.2fs %s\n" "$d" "$1 $2 $3" "$(echo "$t1 - $t0" | bc)" "$st"
}
# dataset, period, an area level the dataset has ("-": none), and whether the period has
# the 10 time steps emerging hot spots need
while read -r d from to level emerging; do
  run "$d" patterns --from "$from" --to "$to" --group-by category --json
  run "$d" hotspots --method kde --from "$from" --to "$to" --cell-size 150 --json
  run "$d" hotspots --method gistar --from "$from" --to "$to" --cell-size 150 --json
  if [ "$emerging" = yes ]; then
    run "$d" hotspots --method emerging --from "$from" --to "$to" --cell-size 500 --json
  fi
  run "$d" hotspots --method gistar --from "$from" --to "$to" --hex 9 --permutations 99 --json
  run "$d" near-repeat --from "$from" --to "$to" --classify 200,14 --json
  run "$d" priorities --from "$from" --to "$to" --cell-size 150 --json
  if [ "$level" != - ]; then
    run "$d" priorities --from "$from" --to "$to" --area-units "$level" --json
  fi
done <<LIST
philadelphia-ppd 2024-01-01 2025-01-01 district yes
stlouis-slmpd 2019-01-01 2020-01-01 neighbourhood yes
vancouver-vpd 2024-01-01 2025-01-01 neighbourhood yes
portland-nij-cfs 2016-03-01 2017-03-01 boundary yes
portland-nij-burglary 2016-03-01 2017-03-01 boundary yes
portland-nij-vehicle-theft 2016-03-01 2017-03-01 boundary yes
chicago-code-burglary 2016-01-01 2016-02-01 - no
LIST
echo "failures: $fails"
exit $((fails > 0))
