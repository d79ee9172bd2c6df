# The two commands: `make demo` (a live upgrade under load) and `make test` (the whole suite).
# Both install what is missing (Docker Engine, MariaDB, node modules) and start the daemons.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help setup deps build images test demo typecheck clean

help:
	@echo "make demo   install what is missing, build the demo images, upgrade v1 -> v2 under load"
	@echo "make test   install what is missing, run unit and integration tests (real Docker, real MariaDB)"
	@echo "make build  compile to dist/ (then: npx handover --help)"

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund

deps: node_modules/.package-lock.json

build: deps
	npx tsc -p tsconfig.json

typecheck: deps
	npx tsc -p tsconfig.test.json

setup:
	bash scripts/setup-env.sh

images: deps setup
	bash scripts/build-demo-images.sh

# No `images`: the tests that run the demo images build them (ensureDemoImages).
test: build typecheck setup
	bash scripts/run-tests.sh

demo: build images
	bash scripts/demo.sh

clean:
	rm -rf dist .tap
