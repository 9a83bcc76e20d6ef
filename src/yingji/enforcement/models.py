"""执法检查 (enforcement): persistence only."""
