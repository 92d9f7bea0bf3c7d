"""Run the command line as ``python -m dailypapers``."""

from dailypapers.cli import main

main()
