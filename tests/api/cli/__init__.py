"""The zonemap command line."""
