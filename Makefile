# One-command entry points. Every target that needs tools depends on `setup`, which creates or
# reuses .venv and installs everything into it, so a fresh machine needs only Python 3.11 and pip.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.setup-done
COLLECTION_LINK := .collections/ansible_collections/alicloud/oos
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.collections
export PATH := $(CURDIR)/$(BIN):$(PATH)
# Proxies would route even loopback traffic away from the emulator (see PROTOCOL.md §5).
unexport HTTP_PROXY HTTPS_PROXY http_proxy https_proxy ALL_PROXY all_proxy

.PHONY: setup demo test test-fast bench build lint clean products

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

# Three workers on two cores: many tests wait on emulated transitions. worksteal: with plain load
# scheduling a worker busy with the corpus lint kept a queue of tests while the others idled (21.8 min
# against 15.1 min, measured here).
test: setup
	$(BIN)/python -m pytest -n 3 --dist worksteal --durations=15 tests

bench: setup
	$(BIN)/python -m bench

# Regenerate plugins/module_utils/product_catalog.py from tools/products/sdk_snapshot.json (offline).
products: setup
	$(BIN)/python -m tools.products

build: setup
	$(BIN)/ansible-galaxy collection build --force --output-path $(VENV)

clean:
	rm -rf $(VENV) .collections .pytest_cache
