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
TEXT     ?=
ARGS     ?=

PY  := $(VENV)/bin/python
CLI := $(PY) -m audio_edition --settings $(SETTINGS)
SOURCE := $(if $(FEED),--feed $(FEED)) --issue $(ISSUE)

.PHONY: help episode publish review segment status script say check cache-prune test bench assets screenshot clean watch \
	serve test-coqui

help: ## list the targets
	@awk -F ':.*## ' '/^[a-z-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

EXTRAS       := test,check
COQUI_EXTRAS := test,coqui

# A virtual environment with the project and its extras ($(2)): written once, used for .venv and .venv-coqui.
define venv
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "audio-edition needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(1)
	$(1)/bin/python -m pip install --quiet --upgrade pip
	$(1)/bin/python -m pip install --quiet -e '.[$(2)]'
	@touch $(1)/.installed
endef

$(VENV)/.installed: pyproject.toml
	$(call venv,$(VENV),$(EXTRAS))

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

say: $(VENV)/.installed ## speak a text through the normalizer, lexicon and voice into say.wav: make say TEXT="CIFAR-10 at 3:30 pm"
	$(CLI) say "$(TEXT)" $(ARGS)

check: $(VENV)/.installed ## hear a built episode with Whisper and report its word error rate (ISSUE=)
	$(CLI) check $(ISSUE) $(ARGS)

cache-prune: $(VENV)/.installed ## delete cached speech and encoded blocks no built episode uses (ARGS=--dry-run to see)
	$(CLI) cache prune $(ARGS)

test: $(VENV)/.installed ## run the test suite (real voice, real MP3s, real parsers)
	$(PY) -m pytest $(ARGS)

bench: $(VENV)/.installed ## measure cold/warm/edited builds against the raw engine, and growth with length (~20 min)
	$(PY) tools/bench.py --settings $(SETTINGS) $(ARGS)

# The Coqui engine brings torch (several GB): its own environment, so that .venv stays small.
COQUI_VENV := .venv-coqui

$(COQUI_VENV)/.installed: pyproject.toml
	$(call venv,$(COQUI_VENV),$(COQUI_EXTRAS))

test-coqui: $(COQUI_VENV)/.installed ## run the Coqui engine's tests in .venv-coqui (installs the coqui extra, several GB)
	$(COQUI_VENV)/bin/python -c 'import TTS.api'
	$(COQUI_VENV)/bin/python -m pytest tests/test_coqui.py $(ARGS)

assets: $(VENV)/.installed ## regenerate the show's jingle and cover in audio/
	$(PY) tools/assets.py audio

screenshot: $(VENV)/.installed ## photograph issue 66's show notes for the README (docs/show-notes.png; needs chromium)
	$(CLI) episode --issue 66 --no-publish
	$(PY) docs/app-page.py episodes/an-066 build/app-page.html
	chromium --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars --user-data-dir=build/chromium \
		--window-size=800,1232 --screenshot=docs/show-notes.png file://$(CURDIR)/build/app-page.html

clean: ## remove built episodes, the speech cache and public/ (keeps the virtual environment)
	rm -rf episodes/an-* episodes/.cache public
