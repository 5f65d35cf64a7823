"""`python -m log_gardener` is the `gardener` command."""

from log_gardener.flows.cli import main

main()
