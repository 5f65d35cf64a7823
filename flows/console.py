"""The `gardener` console script.

A plain `gardener cluster FILE [-o CSV]` runs without importing the command
line's framework (see `cluster_command`); every other command line goes to
`flows.cli`.
"""

from __future__ import annotations

import gc
import os
import sys


def main() -> None:
    from log_gardener.flows.cluster_command import plain_arguments

    arguments = plain_arguments(sys.argv[1:])
    if arguments is None:
        from log_gardener.flows.cli import main as cli_main

        cli_main()
        return
    from log_gardener.flows.cluster_command import CannotOpen, cluster_file

    source, output = arguments
    # ends as the full command line would: a clear line for a file that cannot be opened (2), quietly when the
    # reader of the output goes away (`| head`, 1) or on Ctrl-C (130)
    try:
        cluster_file(source, output)
    except CannotOpen as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing more reaches the closed pipe at exit
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    finally:
        gc.freeze()  # the process ends here: what it made needs no last collection pass


if __name__ == "__main__":
    main()
