"""Local fakes of external services for end-to-end tests and benchmarks."""
