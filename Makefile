# The two commands a newcomer needs: `make demo` and `make test`.

CARGO ?= cargo
BIN := target/release/streetlight
DEMO_DB ?= demo-out/streetlight.db

.PHONY: demo test build bench clean-demo ui

build:
	$(CARGO) build --release --bin streetlight

## Load the bundled real data into a local SQLite database, print its quality report, and run
## the analyst's toolbox on it (time patterns, Gi* hot spots, near-repeats, harm priorities),
## and backtest and run the forecasting models.
demo: build
	@mkdir -p demo-out
	@rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
	$(BIN) ingest --db $(DEMO_DB) --profile stlouis-slmpd data/stlouis-slmpd/raw/2019/*.csv.gz
	$(BIN) ingest --db $(DEMO_DB) --profile vancouver-vpd data/vancouver-vpd/raw/*.csv.gz
	$(BIN) ingest --db $(DEMO_DB) --profile chicago-code data/chicago-code/raw/chicago_be_month1.csv
	$(BIN) datasets --db $(DEMO_DB)
	$(BIN) quality --db $(DEMO_DB) --dataset stlouis-slmpd
	$(BIN) patterns --db $(DEMO_DB) --dataset stlouis-slmpd --category residential_burglary --from 2019-01-01 --to 2020-01-01
	$(BIN) hotspots --db $(DEMO_DB) --dataset stlouis-slmpd --method gistar --from 2019-01-01 --to 2020-01-01 --cell-size 150 --geojson demo-out/stlouis-gistar.geojson
	$(BIN) near-repeat --db $(DEMO_DB) --dataset stlouis-slmpd --category residential_burglary --from 2019-01-01 --to 2020-01-01 --classify 200,14
	$(BIN) priorities --db $(DEMO_DB) --dataset stlouis-slmpd --from 2019-10-01 --to 2020-01-01 --top 10 --csv demo-out/stlouis-priorities.csv
	$(BIN) backtest --db $(DEMO_DB) --dataset stlouis-slmpd --category residential_burglary --models naive,historical,retrospective,prospective,stkde,etas-grid,sepp --cell-size 150 --train-days 180 --horizon-days 7 --origins 12 --start 2019-09-01 --html demo-out/stlouis-backtest.html
	$(BIN) forecast --db $(DEMO_DB) --dataset stlouis-slmpd --category residential_burglary --model retrospective --cell-size 150 --horizon-days 7 --geojson demo-out/stlouis-forecast.geojson
	@echo "database: $(DEMO_DB) (try: $(BIN) hotspots --db $(DEMO_DB) --dataset vancouver-vpd --method kde --geojson demo-out/vancouver-kde.geojson)"

## Build the web UI into web/dist (embedded into the binary by the next cargo build).
ui:
	cd web && npm ci --no-audit --no-fund && npm run build && npm run check:offline

## Formatting, lints (warnings are errors) and every test.
test:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) test --workspace --release

clean-demo:
	rm -rf demo-out
