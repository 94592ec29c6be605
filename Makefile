# Each target is one command of crm/bootstrap.py, which needs nothing but Python 3.11+.
PYTHON ?= python3

.PHONY: run test bench lint

run:
	$(PYTHON) crm/bootstrap.py run

test:
	$(PYTHON) crm/bootstrap.py test

bench:
	$(PYTHON) crm/bootstrap.py bench

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	CRM_TESTING=1 .venv/bin/python manage.py makemigrations --check --dry-run
