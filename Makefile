# Each target is one command of crm/bootstrap.py, which needs nothing but Python 3.11+ and creates
# .venv itself. Pass arguments to test and bench with ARGS, e.g. `make test ARGS="-m browser -x"`.
PYTHON ?= python3
ARGS ?=

.PHONY: run test bench lint

run:
	$(PYTHON) crm/bootstrap.py run

test:
	$(PYTHON) crm/bootstrap.py test $(ARGS)

bench:
	$(PYTHON) crm/bootstrap.py bench $(ARGS)

# ruff check, ruff format --check, manage.py makemigrations --check --dry-run
lint:
	$(PYTHON) crm/bootstrap.py lint
