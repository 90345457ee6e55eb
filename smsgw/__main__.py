"""`python -m smsgw` is the same as the `smsgw` console script."""

from smsgw.cli.main import main

if __name__ == "__main__":
    main()
