"""The `gardener` console script.

A plain `gardener cluster FILE [-o CSV]` runs without importing the command
line's framework (see `cluster_command`); every other command line goes to
`flows.cli`.
"""

from __future__ import annotations

import gc
import sys


def main() -> None:
    from log_gardener.flows.cluster_command import plain_arguments

    arguments = plain_arguments(sys.argv[1:])
    if arguments is None:
        from log_gardener.flows.cli import main as cli_main

        cli_main()
        return
    from log_gardener.flows.cluster_command import read_lines, write_clusters
    from log_gardener.tasks.clustering import collection_paused

    source, output = arguments
    try:
        with collection_paused():
            write_clusters(read_lines(source), output)
    finally:
        gc.freeze()  # the process ends here: what it made needs no last collection pass


if __name__ == "__main__":
    main()
