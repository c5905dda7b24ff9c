"""``python -m salur_cases``: the ``salur`` command line."""

from salur_cases.cli import main

if __name__ == "__main__":
    main()
