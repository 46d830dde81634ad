# audio-edition: the Alignment Newsletter as a podcast. `make help` lists what you can do.
PYTHON   ?= python3
VENV     ?= .venv
SETTINGS ?= edition.toml
FEED     ?=
ISSUE    ?= latest
PORT     ?= 8000
TO       ?=
ID       ?=
CHAPTER  ?=

PY  := $(VENV)/bin/python
CLI := $(PY) -m audio_edition --settings $(SETTINGS)
SOURCE := $(if $(FEED),--feed $(FEED)) --issue $(ISSUE)

.PHONY: help episode publish review segment status script test bench assets screenshot clean watch serve test-coqui

help: ## list the targets
	@awk -F ':.*## ' '/^[a-z-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "audio-edition needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[test,check]'
	@touch $@

episode: $(VENV)/.installed ## build the newest issue (FEED=, ISSUE=; ARGS=--no-publish to only build) and publish it to public/
	$(CLI) episode $(SOURCE) $(ARGS)

publish: $(VENV)/.installed ## regenerate public/ and copy it to the host (TO=folder|s3|PATH); ISSUE=N approves issue N
	$(CLI) publish $(if $(filter-out latest,$(ISSUE)),--issue $(ISSUE)) $(if $(TO),--to $(TO))

review: $(VENV)/.installed ## list the built episode's segments: id, start, chapter, what is said (ISSUE=, CHAPTER=)
	$(CLI) review --issue $(ISSUE) $(if $(CHAPTER),--chapter "$(CHAPTER)")

segment: $(VENV)/.installed ## write (and play, if a player exists) one segment from the cache: make segment ID=3f2a9c1e
	$(CLI) segment $(ID) --issue $(ISSUE) --play

status: $(VENV)/.installed ## each issue's state (new, waiting for review, published, failed), the last watch run
	$(CLI) status

serve: $(VENV)/.installed ## preview public/ at http://localhost:PORT/ as podcast apps see it (PORT=8000)
	$(CLI) serve --port $(PORT)

watch: $(VENV)/.installed ## check the feed once (FEED=): build and publish every issue not yet published
	$(CLI) watch --once $(if $(FEED),--feed $(FEED))

script: $(VENV)/.installed ## print an issue's spoken script (FEED=, ISSUE=)
	$(CLI) script $(SOURCE)

test: $(VENV)/.installed ## run the test suite (real voice, real MP3s, real parsers)
	$(PY) -m pytest $(ARGS)

bench: $(VENV)/.installed ## measure cold/warm/edited builds against the raw engine, and growth with length (~25 min)
	$(PY) -m audio_edition.bench --settings $(SETTINGS) $(ARGS)

# The Coqui engine brings torch (several GB): its own environment, so that .venv stays small.
COQUI_VENV := .venv-coqui

$(COQUI_VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "audio-edition needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(COQUI_VENV)
	$(COQUI_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(COQUI_VENV)/bin/python -m pip install --quiet -e '.[test,coqui]'
	@touch $@

test-coqui: $(COQUI_VENV)/.installed ## run the Coqui engine's tests in .venv-coqui (installs the coqui extra, several GB)
	$(COQUI_VENV)/bin/python -c 'import TTS.api'
	$(COQUI_VENV)/bin/python -m pytest tests/test_coqui.py $(ARGS)

assets: $(VENV)/.installed ## regenerate the show's jingle and cover in audio/
	$(PY) -m audio_edition.assets audio

screenshot: $(VENV)/.installed ## photograph issue 66's show notes for the README (docs/show-notes.png; needs chromium)
	$(CLI) episode --issue 66 --no-publish
	$(PY) docs/app-page.py episodes/an-066 build/app-page.html
	chromium --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars --user-data-dir=build/chromium \
		--window-size=800,1232 --screenshot=docs/show-notes.png file://$(CURDIR)/build/app-page.html

clean: ## remove built episodes, the speech cache and public/ (keeps the virtual environment)
	rm -rf episodes/an-* episodes/.cache public
