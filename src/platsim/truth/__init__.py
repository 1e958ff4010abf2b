"""States of nature: how each arm's patients' outcomes are generated."""
