# One-command entry points. Every target that needs tools depends on `setup`, which creates or
# reuses .venv and installs everything into it, so a fresh machine needs only Python 3.11 and pip
# (and PyPI: ansible-test builds the sanity test virtualenvs under ~/.ansible/test from it).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.setup-done
COLLECTION_LINK := .collections/ansible_collections/alicloud/oos
PYTEST := $(BIN)/python -m pytest
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.collections
export PATH := $(CURDIR)/$(BIN):$(PATH)
# Proxies would route even loopback traffic away from the emulator (see PROTOCOL.md §5).
unexport HTTP_PROXY HTTPS_PROXY http_proxy https_proxy ALL_PROXY all_proxy

.PHONY: setup demo test test-fast lint bench build changelog clean products

setup: $(STAMP) $(COLLECTION_LINK)

$(STAMP): requirements.txt test-requirements.txt constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11 or run make PYTHON=python3"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -r requirements.txt -r test-requirements.txt
	@touch $(STAMP)

# The checkout itself is the collection: link it where ansible looks for alicloud.oos.
$(COLLECTION_LINK):
	@mkdir -p $(dir $(COLLECTION_LINK))
	@ln -sfn $(CURDIR) $(COLLECTION_LINK)

demo: setup
	$(BIN)/python -m tests.demo

# Everything (what CI runs): unit, emulator, integration, reliability, roles, the whole converter corpus
# lint, the full ansible-test sanity suite and the built tarball installed for ansible-core 2.16 and 2.19.
# Three workers on two cores: many tests wait on emulated transitions. worksteal: with plain load
# scheduling a worker busy with the corpus lint kept a queue of tests while the others idled (21.8 min
# against 15.1 min, measured here).
test: setup
	$(PYTEST) -n 3 --dist worksteal --durations=15 -rxX tests

# The inner loop (under 3 minutes): unit, emulator, integration and reliability tests but the slow ones
# (pytest --fast: marked heavy above 20 s, or listed in tests/conftest.py), the corpus lint on a sample; no
# static checks (make lint).
test-fast: setup
	$(PYTEST) -n 3 --dist worksteal --durations=10 --fast --ignore=tests/sanity tests

# Static checks: ansible-test sanity (every test; findings per file in tests/output/sanity/), ansible-lint
# (production profile) on roles and playbooks, ansible-doc on every plugin and role, the changelog.
lint: setup
	$(PYTEST) -n 3 --dist worksteal --durations=15 -rxX tests/sanity

bench: setup
	$(BIN)/python -m bench

# Regenerate plugins/module_utils/product_catalog.py from tools/products/sdk_snapshot.json (offline).
products: setup
	$(BIN)/python -m tools.products

build: setup
	$(BIN)/ansible-galaxy collection build --force --output-path $(VENV)

# Before building a release: folds new and edited changelog fragments into the release of galaxy.yml's
# version (added, or updated) and rewrites CHANGELOG.rst. Fragments stay (keep_fragments: true), so branches
# that add or edit one merge cleanly.
changelog: setup
	$(BIN)/antsibull-changelog release --update-existing --refresh-fragments

clean:
	rm -rf $(VENV) .collections .pytest_cache tests/output
