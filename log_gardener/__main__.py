"""`python -m log_gardener` is the `gardener` command."""

from log_gardener.flows.console import main

main()
