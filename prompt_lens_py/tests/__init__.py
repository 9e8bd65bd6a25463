"""The package's tests: python3 -m unittest discover -s prompt_lens_py -t . (from the repository root)."""
