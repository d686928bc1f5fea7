# The two commands a newcomer needs: `make demo` and `make test`.

CARGO ?= cargo
BIN := target/release/streetlight
DEMO_DB ?= demo-out/streetlight.db
DEMO_ADDR ?= 127.0.0.1:8080

.PHONY: demo demo-data demo-cli e2e test build bench clean-demo ui

build:
	$(CARGO) build --release --bin streetlight

## Build the web UI and the binary, load the bundled real data into a local SQLite
## database, create a demo analyst (its password is printed once) and serve the dashboard
## on 127.0.0.1 until Ctrl-C. `make demo-cli` runs the analyst's toolbox in the terminal.
demo: ui build demo-data
	@$(BIN) user add demo --role analyst --db $(DEMO_DB)
	@echo "dashboard: http://$(DEMO_ADDR)/  (user demo with the password above, then choose your own; Ctrl-C stops the server)"
	$(BIN) serve --db $(DEMO_DB) --addr $(DEMO_ADDR)

## A fresh demo store with the bundled data (St. Louis 2019, Vancouver 2025, Chicago
## January 2016, Philadelphia Q4 2024 with its census tracts as a context layer).
demo-data: build
	@mkdir -p demo-out
	@rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
	$(BIN) ingest --db $(DEMO_DB) --profile stlouis-slmpd data/stlouis-slmpd/raw/2019/*.csv.gz
	$(BIN) ingest --db $(DEMO_DB) --profile vancouver-vpd data/vancouver-vpd/raw/*.csv.gz
	$(BIN) ingest --db $(DEMO_DB) --profile chicago-code data/chicago-code/raw/chicago_be_month1.csv
	$(BIN) ingest --db $(DEMO_DB) --profile philadelphia-ppd data/philadelphia-ppd/raw/incidents_2024q4.csv.zst
	$(BIN) layer add --db $(DEMO_DB) --dataset philadelphia-ppd --name tracts --population-field total_pop data/philadelphia-ppd/boundaries/census_tracts_pop.geojson.gz
	$(BIN) datasets --db $(DEMO_DB)

## The analyst's toolbox in the terminal on the demo store: quality report, time patterns,
## Gi* hot spots, near-repeats, harm priorities, a backtest and a forecast.
demo-cli: demo-data
	$(BIN) quality --db $(DEMO_DB) --dataset stlouis-slmpd
	$(BIN) patterns --db $(DEMO_DB) --dataset stlouis-slmpd --category residential_burglary --from 2019-01-01 --to 2020-01-01
	$(BIN) hotspots --db $(DEMO_DB) --dataset stlouis-slmpd --method gistar --from 2019-01-01 --to 2020-01-01 --cell-size 150 --geojson demo-out/stlouis-gistar.geojson
	$(BIN) near-repeat --db $(DEMO_DB) --dataset stlouis-slmpd --category residential_burglary --from 2019-01-01 --to 2020-01-01 --classify 200,14
	$(BIN) priorities --db $(DEMO_DB) --dataset stlouis-slmpd --from 2019-10-01 --to 2020-01-01 --top 10 --csv demo-out/stlouis-priorities.csv
	$(BIN) backtest --db $(DEMO_DB) --dataset stlouis-slmpd --category residential_burglary --models naive,historical,retrospective,prospective,stkde,etas-grid,sepp --cell-size 150 --train-days 180 --horizon-days 7 --origins 12 --start 2019-09-01 --html demo-out/stlouis-backtest.html
	$(BIN) forecast --db $(DEMO_DB) --dataset stlouis-slmpd --category residential_burglary --model retrospective --cell-size 150 --horizon-days 7 --geojson demo-out/stlouis-forecast.geojson
	$(BIN) rates --db $(DEMO_DB) --dataset philadelphia-ppd --layer tracts --category robbery --geojson demo-out/philadelphia-robbery-rates.geojson
	@echo "database: $(DEMO_DB) (try: $(BIN) hotspots --db $(DEMO_DB) --dataset vancouver-vpd --method kde --geojson demo-out/vancouver-kde.geojson)"

## The browser end-to-end test (headless Chromium) against the real server on the demo
## store: builds the UI and the binary, serves on a free loopback port with a fresh
## analyst, runs web/e2e, stops the server. Screenshots land in web/e2e/artifacts/.
e2e: ui build demo-data
	bash scripts/e2e-real-server.sh $(BIN) $(DEMO_DB)

## Build the web UI into web/dist (embedded into the binary by the next cargo build).
ui:
	cd web && npm ci --no-audit --no-fund && npm run build && npm run check:offline

## Formatting, lints (warnings are errors), every Rust test, and the browser end-to-end
## test against the real server (needs node/npm and Debian's chromium; .ci/run installs
## them). The UI is built first so the server embeds it.
test: ui
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) test --workspace --release
	$(MAKE) --no-print-directory e2e

clean-demo:
	rm -rf demo-out
