# The two set-up commands (see README):  make demo   and   make test
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
ADDR ?= 127.0.0.1:8000

.PHONY: demo test bench lint venv clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	touch $@

venv: $(VENV)/.installed

## Create the environment, migrate, load Guangzhou, departments, the seed plan with a
## year of demo activity, every module's demo data and demo users, then serve
## http://127.0.0.1:8000 with the background worker and the MQTT ingest worker
## (make demo SIMULATE=rainstorm|typhoon also drives the sensors)
## Messages go through the demo channel set (labelled 演示通道) unless a real channel
## is configured: see core/channelconfig.py
## YINGJI_DEMO=1: an install on one machine over plain HTTP (a secret key, the demo
## password and the CAP push token generated for this install under var/; no second
## factor). Without it (or DEBUG=1) the server refuses to start insecurely.
demo: $(VENV)/.installed
	YINGJI_DEMO=1 YINGJI_DEMO_CHANNELS=$${YINGJI_DEMO_CHANNELS:-1} $(VENV)/bin/yingji demo --addr $(ADDR)
	YINGJI_DEMO=1 YINGJI_DEMO_CHANNELS=$${YINGJI_DEMO_CHANNELS:-1} $(VENV)/bin/yingji serve $(ADDR) $(if $(SIMULATE),--simulate $(SIMULATE))

## Every test, on SQLite and again on PostgreSQL
test: $(VENV)/.installed
	PY=$(PY) scripts/test-all $(ARGS)

## Benchmarks (QUICK=1 for a short run on smaller data)
bench: $(VENV)/.installed
	PY=$(PY) QUICK=$(QUICK) scripts/bench-all

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

clean:
	rm -rf $(VENV) var
