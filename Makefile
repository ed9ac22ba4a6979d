# Thin aliases for dev.py, which needs nothing but Python 3.11+.
PYTHON ?= $(shell command -v python3.11 || command -v python3)

.PHONY: demo test
demo:
	$(PYTHON) dev.py demo
test:
	$(PYTHON) dev.py test
