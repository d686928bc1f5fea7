# The two commands a newcomer needs: `make demo` and `make test`.

CARGO ?= cargo
BIN := target/release/streetlight
DEMO_DB ?= demo-out/streetlight.db

.PHONY: demo test build bench clean-demo

build:
	$(CARGO) build --release --bin streetlight

## Load the bundled real data into a local SQLite database and print its quality report.
demo: build
	@mkdir -p demo-out
	@rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
	$(BIN) ingest --db $(DEMO_DB) --profile stlouis-slmpd data/stlouis-slmpd/raw/2019/*.csv.gz
	$(BIN) ingest --db $(DEMO_DB) --profile vancouver-vpd data/vancouver-vpd/raw/*.csv.gz
	$(BIN) datasets --db $(DEMO_DB)
	$(BIN) quality --db $(DEMO_DB) --dataset stlouis-slmpd
	@echo "database: $(DEMO_DB) (try: $(BIN) export --db $(DEMO_DB) --dataset vancouver-vpd --output demo-out/vancouver.gpkg)"

## Formatting, lints (warnings are errors) and every test.
test:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) test --workspace --release

clean-demo:
	rm -rf demo-out
