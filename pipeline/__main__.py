import sys

from pipeline.cli import main

# Guarded: worker processes (forkserver) import the main module again and must not re-run the CLI.
if __name__ == "__main__":
    sys.exit(main())
