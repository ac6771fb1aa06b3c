"""The reliability proof: fault injection, cancellation, load, loops and secrets."""
